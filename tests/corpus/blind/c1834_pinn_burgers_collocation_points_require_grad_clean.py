import math

import torch
import torch.nn as nn


class PINN(nn.Module):
    def __init__(self, hidden=24):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=1))


def derivative(out, inp):
    return torch.autograd.grad(out, inp, grad_outputs=torch.ones_like(out), create_graph=True)[0]


def burgers_residual(model, n=128, nu=0.01 / math.pi):
    x = torch.rand(n, 1).mul(2).sub(1).requires_grad_()
    t = torch.rand(n, 1).requires_grad_()
    u = model(x, t)
    u_t, u_x = derivative(u, t), derivative(u, x)
    u_xx = derivative(u_x, x)
    return u_t + u * u_x - nu * u_xx


def boundary_losses(model, n=64):
    x0 = torch.rand(n, 1) * 2 - 1
    ic = model(x0, torch.zeros_like(x0)) + torch.sin(math.pi * x0)
    tb = torch.rand(n, 1)
    bc = torch.cat([model(torch.full_like(tb, -1.0), tb), model(torch.ones_like(tb), tb)])
    return ic.pow(2).mean() + bc.pow(2).mean()


@torch.no_grad()
def initial_condition_error(model, n=50):
    x = torch.linspace(-1, 1, n)[:, None]
    u0 = model(x, torch.zeros_like(x))
    ref = -torch.sin(math.pi * x)
    return ((u0 - ref).norm() / ref.norm()).item()


def main():
    torch.manual_seed(0)
    model = PINN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.net[0].weight.detach().clone()
    for step in range(20):
        loss = burgers_residual(model).pow(2).mean() + boundary_losses(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    initial_condition_error(model)
    return {"model": model}, {"model_changed": not torch.equal(w0, model.net[0].weight)}

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
