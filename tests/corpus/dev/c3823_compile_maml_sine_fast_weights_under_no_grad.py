import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SineMLP(nn.Module):
    """Regressor that can run with its own parameters or with a dict of adapted (fast) weights."""

    def __init__(self, hidden=40):
        super().__init__()
        self.l1 = nn.Linear(1, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, params):
        h = F.relu(F.linear(x, params["l1.weight"], params["l1.bias"]))
        h = F.relu(F.linear(h, params["l2.weight"], params["l2.bias"]))
        return F.linear(h, params["out.weight"], params["out.bias"])


def sample_task(g, k_shot=10):
    amp = 0.1 + 4.9 * torch.rand(1, generator=g)
    phase = math.pi * torch.rand(1, generator=g)
    x = 10 * torch.rand(2 * k_shot, 1, generator=g) - 5
    y = amp * torch.sin(x - phase)
    return x[:k_shot], y[:k_shot], x[k_shot:], y[k_shot:]


def adapt(model, params, x_support, y_support, inner_lr=0.01):
    """One inner-loop SGD step on the support set; returns the task's fast weights."""
    loss = F.mse_loss(model(x_support, params), y_support)
    grads = torch.autograd.grad(loss, list(params.values()))
    with torch.no_grad():
        fast = {name: p - inner_lr * g for (name, p), g in zip(params.items(), grads)}
    return fast


def meta_train(model, net, meta_opt, n_iters=5, tasks_per_batch=4):
    g = torch.Generator().manual_seed(0)
    for _ in range(n_iters):
        meta_opt.zero_grad()
        meta_loss = 0.0
        for _ in range(tasks_per_batch):
            x_s, y_s, x_q, y_q = sample_task(g)
            fast = adapt(model, dict(net.named_parameters()), x_s, y_s)
            meta_loss = meta_loss + F.mse_loss(model(x_q, fast), y_q)
        (meta_loss / tasks_per_batch).backward()
        meta_opt.step()


def main():
    torch.manual_seed(0)
    net = SineMLP()
    model = torch.compile(net, backend="eager")
    meta_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    w0 = net.l1.weight.detach().clone()
    meta_train(model, net, meta_opt)
    return {"net": net}, {"meta_params_changed": not torch.equal(w0, net.l1.weight)}

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
