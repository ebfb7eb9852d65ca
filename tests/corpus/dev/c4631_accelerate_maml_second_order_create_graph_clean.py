import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call
from accelerate import Accelerator
from accelerate.utils import set_seed

META_CFG = {"inner_lr": 0.01, "inner_steps": 2, "meta_lr": 1e-3, "tasks_per_batch": 4, "meta_iters": 5,
            "k_support": 10, "k_query": 10}


class SineRegressor(nn.Module):
    def __init__(self, hidden=40):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def sample_task(g):
    amp = torch.empty(1).uniform_(0.1, 5.0, generator=g)
    phase = torch.empty(1).uniform_(0, math.pi, generator=g)
    return lambda x: amp * torch.sin(x + phase)


def sample_points(fn, k, g):
    x = torch.empty(k, 1).uniform_(-5, 5, generator=g)
    return x, fn(x)


def adapt(model, params, x, y, cfg):
    fast = dict(params)
    for _ in range(cfg["inner_steps"]):
        loss = F.mse_loss(functional_call(model, fast, (x,)), y)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
        fast = {name: w - cfg["inner_lr"] * gw for (name, w), gw in zip(fast.items(), grads)}
    return fast


def meta_step(model, optimizer, accelerator, cfg, g):
    params = dict(model.named_parameters())
    meta_loss = 0.0
    for _ in range(cfg["tasks_per_batch"]):
        fn = sample_task(g)
        xs, ys = sample_points(fn, cfg["k_support"], g)
        xq, yq = sample_points(fn, cfg["k_query"], g)
        fast = adapt(model, params, xs, ys, cfg)
        meta_loss = meta_loss + F.mse_loss(functional_call(model, fast, (xq,)), yq)
    meta_loss = meta_loss / cfg["tasks_per_batch"]
    optimizer.zero_grad()
    accelerator.backward(meta_loss)
    optimizer.step()
    return meta_loss.item()


def meta_validate(model, cfg, g, tasks=3):
    params = dict(model.named_parameters())
    errs = []
    for _ in range(tasks):
        fn = sample_task(g)
        xs, ys = sample_points(fn, cfg["k_support"], g)
        xq, yq = sample_points(fn, cfg["k_query"], g)
        fast = adapt(model, params, xs, ys, cfg)
        with torch.no_grad():
            errs.append(F.mse_loss(functional_call(model, fast, (xq,)), yq).item())
    return sum(errs) / len(errs)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = SineRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=META_CFG["meta_lr"])
    model, optimizer = accelerator.prepare(model, optimizer)
    w0 = model.net[0].weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    history = []
    for it in range(META_CFG["meta_iters"]):
        history.append(meta_step(model, optimizer, accelerator, META_CFG, g))
    val_g = torch.Generator().manual_seed(123)
    meta_validate(model, META_CFG, val_g)
    return {"model": model}, {"meta_params_changed": not torch.equal(w0, model.net[0].weight)}

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
