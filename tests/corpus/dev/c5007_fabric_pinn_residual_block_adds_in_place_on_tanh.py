import math

import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"width": 32, "depth": 3, "nu": 0.1, "lr": 2e-3, "epochs": 2, "n_colloc": 128, "n_bc": 32}


class ResidualPINN(nn.Module):
    """u(x, t) for the 1D heat equation; tanh blocks with identity skips."""

    def __init__(self, width, depth):
        super().__init__()
        self.inp = nn.Linear(2, width)
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.out = nn.Linear(width, 1)

    def forward(self, x, t):
        h = torch.tanh(self.inp(torch.cat([x, t], dim=1)))
        for blk in self.blocks:
            h += torch.tanh(blk(h))
        return self.out(h)


def grad(out, wrt):
    return torch.autograd.grad(out, wrt, grad_outputs=torch.ones_like(out), create_graph=True)[0]


def heat_residual(model, x, t, nu):
    x = x.clone().requires_grad_(True)
    t = t.clone().requires_grad_(True)
    u = model(x, t)
    u_t, u_x = grad(u, t), grad(u, x)
    return u_t - nu * grad(u_x, x)


def boundary_loss(model, n, gen):
    x0 = torch.rand(n, 1, generator=gen)
    u_init = model(x0, torch.zeros_like(x0))
    tb = torch.rand(n, 1, generator=gen)
    u_left, u_right = model(torch.zeros_like(tb), tb), model(torch.ones_like(tb), tb)
    return ((u_init - torch.sin(math.pi * x0)) ** 2).mean() + (u_left ** 2).mean() + (u_right ** 2).mean()


def train(fabric, model, optimizer, loader, cfg, gen):
    model.train()
    for epoch in range(cfg["epochs"]):
        for x, t in loader:
            optimizer.zero_grad()
            loss = (heat_residual(model, x, t, cfg["nu"]) ** 2).mean() + boundary_loss(model, cfg["n_bc"], gen)
            fabric.backward(loss)
            optimizer.step()
        fabric.log("pde_loss", loss.item())


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    colloc = TensorDataset(torch.rand(CFG["n_colloc"], 1, generator=g), torch.rand(CFG["n_colloc"], 1, generator=g))
    loader = fabric.setup_dataloaders(DataLoader(colloc, batch_size=32, shuffle=True, generator=g))
    model = ResidualPINN(CFG["width"], CFG["depth"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    w0 = model.module.inp.weight.detach().clone()
    train(fabric, model, optimizer, loader, CFG, g)
    return {"model": model.module}, {"pinn_changed": not torch.equal(w0, model.module.inp.weight)}

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
