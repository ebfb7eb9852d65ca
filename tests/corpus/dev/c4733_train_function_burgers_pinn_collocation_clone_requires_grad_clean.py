import math
import torch
import torch.nn as nn

CFG = {"nu": 0.01 / math.pi, "n_colloc": 128, "n_bc": 32, "lr": 1e-3, "epochs": 15, "width": 24}


class MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=1))


def sample_collocation(n, g):
    x = torch.rand(n, 1, generator=g) * 2 - 1
    t = torch.rand(n, 1, generator=g)
    return x, t


def burgers_residual(model, x, t, nu):
    x = x.clone().requires_grad_(True)
    t = t.clone().requires_grad_(True)
    u = model(x, t)
    ones = torch.ones_like(u)
    u_x, u_t = torch.autograd.grad(u, (x, t), grad_outputs=ones, create_graph=True)
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]
    return u_t + u * u_x - nu * u_xx


def boundary_loss(model, g, n):
    t = torch.rand(n, 1, generator=g)
    x0 = torch.rand(n, 1, generator=g) * 2 - 1
    left = model(-torch.ones_like(t), t)
    right = model(torch.ones_like(t), t)
    init = model(x0, torch.zeros_like(x0)) + torch.sin(math.pi * x0)
    return left.pow(2).mean() + right.pow(2).mean() + init.pow(2).mean()


def train(model, optimizer, cfg):
    g = torch.Generator().manual_seed(1)
    for epoch in range(cfg["epochs"]):
        x, t = sample_collocation(cfg["n_colloc"], g)
        loss = burgers_residual(model, x, t, cfg["nu"]).pow(2).mean() + boundary_loss(model, g, cfg["n_bc"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = MLP(CFG["width"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    w0 = model.net[0].weight.detach().clone()
    train(model, optimizer, CFG)
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net[0].weight)}

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
