import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

CFG = {"inner_lr": 0.05, "inner_steps": 2, "meta_lr": 2e-3, "meta_batch": 4, "iterations": 5, "k_shot": 5}


def sample_sine_task(gen, k):
    amp, phase = torch.rand(1, generator=gen) * 4 + 0.1, torch.rand(1, generator=gen) * 3.14
    x = torch.rand(2 * k, 1, generator=gen) * 10 - 5
    y = amp * torch.sin(x + phase)
    return x[:k], y[:k], x[k:], y[k:]


def adapt(model, params, x, y, cfg):
    """Inner loop on functional fast weights; create_graph keeps second-order terms for the meta-gradient."""
    fast = dict(params)
    for _ in range(cfg["inner_steps"]):
        loss = F.mse_loss(functional_call(model, fast, (x,)), y)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
        fast = {name: w - cfg["inner_lr"] * g for (name, w), g in zip(fast.items(), grads)}
    return fast


def meta_train(model, cfg, gen):
    meta_opt = torch.optim.Adam(model.parameters(), lr=cfg["meta_lr"])
    for it in range(cfg["iterations"]):
        params = dict(model.named_parameters())
        meta_loss = 0.0
        for _ in range(cfg["meta_batch"]):
            xs, ys, xq, yq = sample_sine_task(gen, cfg["k_shot"])
            fast = adapt(model, params, xs, ys, cfg)
            meta_loss = meta_loss + F.mse_loss(functional_call(model, fast, (xq,)), yq)
        meta_opt.zero_grad()
        (meta_loss / cfg["meta_batch"]).backward()
        meta_opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))
    w0 = model[0].weight.detach().clone()
    meta_train(model, CFG, torch.Generator().manual_seed(0))
    return {"model": model}, {"meta_params_changed": not torch.equal(w0, model[0].weight)}

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
