import math
import torch
import torch.nn as nn
from lightning.fabric import Fabric

CFG = {"width": 32, "depth": 3, "n_colloc": 64, "lr": 1e-3, "steps": 20, "kappa": 0.5}


class HeatPINN(nn.Module):
    """u(x, t) for the 1D heat equation u_t = kappa * u_xx on x in [0, 1], u(0,t) = u(1,t) = 0."""

    def __init__(self, width, depth):
        super().__init__()
        layers, d = [], 2
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.Tanh()]
            d = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(width, 1), nn.Tanh())

    def forward(self, x, t):
        u = self.head(self.body(torch.cat([x, t], dim=-1)))
        return apply_hard_bc(u, x)


def apply_hard_bc(u, x):
    """Enforce the Dirichlet boundary exactly: u = x (1 - x) * N(x, t)."""
    u.mul_(x * (1 - x))
    return u


def pde_residual(model, x, t, kappa):
    u = model(x, t)
    u_x, u_t = torch.autograd.grad(u.sum(), (x, t), create_graph=True)
    u_xx = torch.autograd.grad(u_x.sum(), x, create_graph=True)[0]
    return u_t - kappa * u_xx


def train(fabric, model, optimizer, cfg):
    g = torch.Generator().manual_seed(1)
    for step in range(cfg["steps"]):
        x = torch.rand(cfg["n_colloc"], 1, generator=g).requires_grad_(True)
        t = torch.rand(cfg["n_colloc"], 1, generator=g).requires_grad_(True)
        x0 = torch.rand(cfg["n_colloc"], 1, generator=g)
        loss_pde = pde_residual(model, x, t, cfg["kappa"]).pow(2).mean()
        loss_ic = (model(x0, torch.zeros_like(x0)) - torch.sin(math.pi * x0)).pow(2).mean()
        loss = loss_pde + loss_ic
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = HeatPINN(CFG["width"], CFG["depth"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    train(fabric, model, optimizer, CFG)
    return {"model": model.module}

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
