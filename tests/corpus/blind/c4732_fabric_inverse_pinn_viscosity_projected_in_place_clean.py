import math
import torch
import torch.nn as nn
from lightning.fabric import Fabric

CFG = {"width": 24, "lr": 3e-3, "iters": 12, "n": 64, "nu_min": 1e-3, "true_nu": 0.05}


class BurgersPINN(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))
        self.nu = nn.Parameter(torch.tensor(0.2))

    def forward(self, xt):
        return self.net(xt)


def residual(model, xt):
    xt = xt.clone().requires_grad_(True)
    u = model(xt)
    du = torch.autograd.grad(u.sum(), xt, create_graph=True)[0]
    u_x, u_t = du[:, :1], du[:, 1:]
    u_xx = torch.autograd.grad(u_x.sum(), xt, create_graph=True)[0][:, :1]
    return u_t + u * u_x - model.nu * u_xx


def train(fabric, model, optimizer, data, cfg):
    xt_obs, u_obs, xt_col = data
    for it in range(cfg["iters"]):
        loss = (model(xt_obs) - u_obs).pow(2).mean() + residual(model, xt_col).pow(2).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        with torch.no_grad():
            model.nu.clamp_(min=cfg["nu_min"])


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = BurgersPINN(CFG["width"])
    optimizer = torch.optim.Adam([{"params": model.net.parameters()}, {"params": [model.nu], "lr": 1e-2}], lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    xt_obs = torch.rand(CFG["n"], 2, generator=g) * torch.tensor([2.0, 1.0]) - torch.tensor([1.0, 0.0])
    u_obs = -torch.sin(math.pi * xt_obs[:, :1]) * torch.exp(-CFG["true_nu"] * xt_obs[:, 1:])
    xt_col = torch.rand(CFG["n"], 2, generator=g) * torch.tensor([2.0, 1.0]) - torch.tensor([1.0, 0.0])
    nu0 = model.module.nu.detach().clone()
    w0 = model.module.net[0].weight.detach().clone()
    train(fabric, model, optimizer, (xt_obs, u_obs, xt_col), CFG)
    return {"model": model.module}, {
        "nu_changed": not torch.equal(nu0, model.module.nu),
        "net_changed": not torch.equal(w0, model.module.net[0].weight),
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
