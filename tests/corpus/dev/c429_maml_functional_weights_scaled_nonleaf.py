import math

import torch
import torch.nn.functional as F


def init_params(sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(torch.randn(fan_out, fan_in, requires_grad=True) * math.sqrt(2.0 / fan_in))
        params.append(torch.zeros(fan_out, requires_grad=True))
    return params


def functional_forward(params, x):
    h = x
    for i in range(0, len(params) - 2, 2):
        h = F.relu(F.linear(h, params[i], params[i + 1]))
    return F.linear(h, params[-2], params[-1])


def sample_sine_task(gen, k=10):
    amp = torch.rand((), generator=gen) * 4.9 + 0.1
    phase = torch.rand((), generator=gen) * math.pi
    x = torch.rand(2 * k, 1, generator=gen) * 10 - 5
    y = amp * torch.sin(x + phase)
    return (x[:k], y[:k]), (x[k:], y[k:])


def inner_adapt(params, support, inner_lr=0.01, steps=1):
    x, y = support
    fast = list(params)
    for _ in range(steps):
        loss = F.mse_loss(functional_forward(fast, x), y)
        grads = torch.autograd.grad(loss, fast, create_graph=True)
        fast = [p - inner_lr * g for p, g in zip(fast, grads)]
    return fast


def meta_train(params, meta_opt, gen, meta_steps=5, tasks_per_batch=4):
    for _ in range(meta_steps):
        meta_loss = 0.0
        for _ in range(tasks_per_batch):
            support, query = sample_sine_task(gen)
            fast = inner_adapt(params, support)
            meta_loss = meta_loss + F.mse_loss(functional_forward(fast, query[0]), query[1])
        meta_opt.zero_grad()
        (meta_loss / tasks_per_batch).backward()
        meta_opt.step()


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    params = init_params([1, 40, 40, 1])
    meta_opt = torch.optim.Adam(params, lr=1e-3)
    meta_train(params, meta_opt, gen)
    return {"w0": params[0], "b0": params[1]}

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
