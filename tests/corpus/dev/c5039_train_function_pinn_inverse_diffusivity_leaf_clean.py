import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

CFG = {"width": 32, "lr": 3e-3, "kappa_lr": 2e-2, "true_kappa": 0.5, "epochs": 3}


class HeatNet(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=1))


def d(out, wrt):
    return torch.autograd.grad(out, wrt, torch.ones_like(out), create_graph=True)[0]


def inverse_problem_loss(model, log_kappa, x, t, u_obs):
    kappa = log_kappa.exp()
    x = x.clone().requires_grad_(True)
    t = t.clone().requires_grad_(True)
    u = model(x, t)
    pde = d(u, t) - kappa * d(d(u, x), x)
    return ((u - u_obs) ** 2).mean() + (pde ** 2).mean()


def make_observations(cfg, n=96):
    g = torch.Generator().manual_seed(0)
    x, t = torch.rand(n, 1, generator=g), torch.rand(n, 1, generator=g) * 0.5
    u = torch.exp(-cfg["true_kappa"] * math.pi ** 2 * t) * torch.sin(math.pi * x)
    return DataLoader(TensorDataset(x, t, u), batch_size=32, shuffle=True, generator=g)


def train(model, log_kappa, loader, cfg):
    optimizer = torch.optim.Adam([{"params": model.parameters()}, {"params": [log_kappa], "lr": cfg["kappa_lr"]}],
                                 lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        for x, t, u_obs in loader:
            optimizer.zero_grad()
            loss = inverse_problem_loss(model, log_kappa, x, t, u_obs)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = HeatNet(CFG["width"])
    log_kappa = torch.zeros(1, requires_grad=True)
    k0 = log_kappa.detach().clone()
    train(model, log_kappa, make_observations(CFG), CFG)
    return {"model": model, "log_kappa": log_kappa}, {"kappa_changed": not torch.equal(k0, log_kappa.detach())}

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
