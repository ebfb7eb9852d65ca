import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


class PolicyNet(nn.Module):
    """A small regressor for few-shot adaptation of a controller's gain curve."""

    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def sample_tasks(n_tasks, k_shot, generator):
    tasks = []
    for _ in range(n_tasks):
        slope = 2 * torch.rand(1, generator=generator) - 1
        freq = 0.5 + torch.rand(1, generator=generator)
        x = 4 * torch.rand(2 * k_shot, 1, generator=generator) - 2
        y = slope * x + torch.sin(freq * x)
        tasks.append((x[:k_shot], y[:k_shot], x[k_shot:], y[k_shot:]))
    return tasks


class MAMLTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.meta_opt = torch.optim.Adam(model.parameters(), lr=cfg["meta_lr"])
        self.log = []

    def adapt(self, xs, ys):
        params = dict(self.model.named_parameters())
        for _ in range(self.cfg["inner_steps"]):
            loss = F.mse_loss(functional_call(self.model, params, (xs,)), ys)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            params = {n: p - self.cfg["inner_lr"] * g for (n, p), g in zip(params.items(), grads)}
        return params

    def meta_step(self, tasks):
        meta_loss = 0.0
        for xs, ys, xq, yq in tasks:
            fast = self.adapt(xs, ys)
            meta_loss = meta_loss + F.mse_loss(functional_call(self.model, fast, (xq,)), yq)
        meta_loss = meta_loss / len(tasks)
        self.meta_opt.zero_grad()
        meta_loss.backward()
        self.meta_opt.step()
        self.log.append(meta_loss.item())

    def fit(self):
        g = torch.Generator().manual_seed(0)
        for _ in range(self.cfg["meta_iters"]):
            self.meta_step(sample_tasks(self.cfg["meta_batch"], self.cfg["k_shot"], g))
        return self.log


def main():
    torch.manual_seed(0)
    model = PolicyNet()
    cfg = {"inner_steps": 2, "inner_lr": 0.05, "meta_lr": 1e-3, "meta_iters": 5, "meta_batch": 3, "k_shot": 5}
    first0 = model.net[0].weight.detach().clone()
    log = MAMLTrainer(model, cfg).fit()
    return {"model": model}, {
        "meta_params_changed": not torch.equal(first0, model.net[0].weight),
        "meta_losses_finite": all(math.isfinite(v) for v in log),
    }

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
