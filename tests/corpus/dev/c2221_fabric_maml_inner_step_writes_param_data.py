import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class SineRegressor(nn.Module):
    def __init__(self, hidden=40):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def sample_task(n_support=10, n_query=10):
    amp, phase = torch.empty(1).uniform_(0.1, 5.0), torch.empty(1).uniform_(0, 3.14)
    xs = torch.empty(n_support + n_query, 1).uniform_(-5, 5)
    ys = amp * torch.sin(xs + phase)
    return xs[:n_support], ys[:n_support], xs[n_support:], ys[n_support:]


class MetaLearner:
    def __init__(self, model, inner_lr=0.01, inner_steps=1):
        self.model = model
        self.inner_lr, self.inner_steps = inner_lr, inner_steps

    def inner_update(self, support_x, support_y):
        adapted = copy.deepcopy(self.model)
        for _ in range(self.inner_steps):
            loss = F.mse_loss(adapted(support_x), support_y)
            grads = torch.autograd.grad(loss, adapted.parameters(), create_graph=True)
            for param, grad in zip(adapted.parameters(), grads):
                param.data -= self.inner_lr * grad
        return adapted

    def meta_train_step(self, fabric, meta_opt, tasks):
        meta_opt.zero_grad()
        meta_loss = 0.0
        for sx, sy, qx, qy in tasks:
            adapted = self.inner_update(sx, sy)
            meta_loss = meta_loss + F.mse_loss(adapted(qx), qy)
        meta_loss = meta_loss / len(tasks)
        fabric.backward(meta_loss)
        meta_opt.step()
        return meta_loss.item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = SineRegressor()
    meta_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, meta_opt = fabric.setup(net, meta_opt)
    learner = MetaLearner(model)
    w0 = net.net[0].weight.detach().clone()
    losses = [learner.meta_train_step(fabric, meta_opt, [sample_task() for _ in range(4)]) for _ in range(3)]
    return ({"meta_model": net},
            {"meta_changed": not torch.equal(w0, net.net[0].weight), "meta_steps": len(losses)})

# ---- ground-truth harness (not part of the reported pattern) ----
if __name__ == "__main__":
    import json as _json, time as _time, warnings as _warnings
    import torch as _torch
    _err, _watched, _facts = None, {}, {}
    _torch.optim.SGD([_torch.zeros(1, requires_grad=True)], lr=0.1)  # warm lazy imports outside the timed region
    with _warnings.catch_warnings(record=True) as _w:
        _warnings.simplefilter("always")
        _t0 = _time.perf_counter()
        try:
            _out = main()
            if isinstance(_out, tuple):
                _watched, _facts = _out
            elif _out is not None:
                _watched = _out
        except Exception as _e:
            _err = (type(_e).__name__ + ": " + str(_e)).splitlines()[0][:300]
        _main_s = round(_time.perf_counter() - _t0, 3)
    _warns = sorted({(_m.category.__name__ + ": " + str(_m.message)).splitlines()[0][:200] for _m in _w})
    _states = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for _name, _obj in _watched.items():
            if isinstance(_obj, _torch.nn.Module):
                _items = [(_name + "." + _n, _p) for _n, _p in _obj.named_parameters()]
            else:
                _items = [(_name, _obj)]
            for _n, _t in _items:
                _g = _t.grad
                _states[_n] = "none" if _g is None else ("ok" if bool(_g.abs().sum() > 0) else "zero")
    print(_json.dumps({
        "grad_none": sorted(k for k, v in _states.items() if v == "none"),
        "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
        "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
        "error": _err,
        "warnings": _warns,
        "facts": _facts,
        "main_seconds": _main_s,
        "torch": _torch.__version__,
    }, sort_keys=True))
