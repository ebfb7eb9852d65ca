import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


class SineRegressor(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def sample_task(generator):
    amp = 0.5 + 4.5 * torch.rand(1, generator=generator)
    phase = 3.14 * torch.rand(1, generator=generator)
    x = 10 * torch.rand(20, 1, generator=generator) - 5
    y = amp * torch.sin(x + phase)
    return (x[:10], y[:10]), (x[10:], y[10:])


class MAMLTrainer:
    def __init__(self, model, inner_lr=0.01, inner_steps=2, meta_lr=1e-3):
        self.model = model
        self.inner_lr, self.inner_steps = inner_lr, inner_steps
        self.meta_opt = torch.optim.Adam(model.parameters(), lr=meta_lr)

    def adapt(self, support):
        x, y = support
        fast = dict(self.model.named_parameters())
        for _ in range(self.inner_steps):
            loss = F.mse_loss(functional_call(self.model, fast, (x,)), y)
            loss.backward(create_graph=True)
            fast = {name: w - self.inner_lr * w.grad for name, w in fast.items()}
        return fast

    def meta_step(self, tasks):
        self.meta_opt.zero_grad()
        total = 0.0
        for support, query in tasks:
            fast = self.adapt(support)
            total = total + F.mse_loss(functional_call(self.model, fast, (query[0],)), query[1])
        (total / len(tasks)).backward()
        self.meta_opt.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = SineRegressor()
    trainer = MAMLTrainer(model)
    for it in range(3):
        trainer.meta_step([sample_task(g) for _ in range(4)])
    return {"model": model}

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
