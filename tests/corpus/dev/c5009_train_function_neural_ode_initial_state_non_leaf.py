import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dim": 2, "hidden": 32, "n_steps": 20, "dt": 0.05, "lr": 1e-2, "z0_lr": 5e-2, "epochs": 3}


class ODEFunc(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, t, z):
        return self.net(z)


def rk4_trajectory(func, z0, n_steps, dt):
    z, out, t = z0, [z0], 0.0
    for _ in range(n_steps - 1):
        k1 = func(t, z)
        k2 = func(t + dt / 2, z + dt / 2 * k1)
        k3 = func(t + dt / 2, z + dt / 2 * k2)
        k4 = func(t + dt, z + dt * k3)
        z = z + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += dt
        out.append(z)
    return torch.stack(out)


def spiral_windows(cfg, n=12):
    ts = torch.arange(cfg["n_steps"]) * cfg["dt"]
    truth = torch.stack([torch.exp(-0.3 * ts) * torch.cos(2 * ts), torch.exp(-0.3 * ts) * torch.sin(2 * ts)], dim=1)
    g = torch.Generator().manual_seed(0)
    obs = truth.unsqueeze(0) + 0.01 * torch.randn(n, *truth.shape, generator=g)
    return DataLoader(TensorDataset(obs), batch_size=4, shuffle=True, generator=g)


def init_state(cfg):
    """Learnable initial condition, started near the origin."""
    return torch.randn(cfg["dim"], requires_grad=True) * 0.1


def build_optimizer(func, z0, cfg):
    return torch.optim.Adam([
        {"params": func.parameters(), "lr": cfg["lr"]},
        {"params": [z0], "lr": cfg["z0_lr"]},
    ])


def train(func, z0, optimizer, loader, cfg):
    for epoch in range(cfg["epochs"]):
        for (obs,) in loader:
            optimizer.zero_grad()
            pred = rk4_trajectory(func, z0, cfg["n_steps"], cfg["dt"])
            loss = ((pred.unsqueeze(0) - obs) ** 2).mean()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    func = ODEFunc(CFG["dim"], CFG["hidden"])
    z0 = init_state(CFG)
    optimizer = build_optimizer(func, z0, CFG)
    train(func, z0, optimizer, spiral_windows(CFG), CFG)
    return {"func": func, "z0": z0}

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
