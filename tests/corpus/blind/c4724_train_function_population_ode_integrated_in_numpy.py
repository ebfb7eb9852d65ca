import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"dt": 0.1, "steps": 20, "lr": 5e-3, "epochs": 5, "hidden": 32}


class DynamicsNet(nn.Module):
    """dy/dt = f_theta(y) for a two-species predator-prey system."""

    def __init__(self, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, y):
        return self.net(y)


def rk4_integrate(f, y0, dt, steps):
    """Fixed-step RK4 (numpy, shared with the scenario simulator)."""
    def rhs(y):
        return f(torch.from_numpy(y).float()).detach().numpy()
    ys, y = [y0], y0
    for _ in range(steps):
        k1 = rhs(y)
        k2 = rhs(y + dt / 2 * k1)
        k3 = rhs(y + dt / 2 * k2)
        k4 = rhs(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.from_numpy(np.stack(ys[1:], axis=1)).float()


def lotka_volterra(y0, dt, steps, a=1.0, b=0.4, c=0.4, d=1.0):
    ys, y = [], y0.copy()
    for _ in range(steps):
        dy = np.stack([a * y[:, 0] - b * y[:, 0] * y[:, 1], c * y[:, 0] * y[:, 1] - d * y[:, 1]], axis=1)
        y = y + dt * dy
        ys.append(y)
    return torch.from_numpy(np.stack(ys, axis=1)).float()


def train(model, optimizer, y0, observed, cfg):
    for epoch in range(cfg["epochs"]):
        pred = rk4_integrate(model, y0, cfg["dt"], cfg["steps"])
        loss = F.mse_loss(pred, observed)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    y0 = np.random.default_rng(0).uniform(0.5, 1.5, (8, 2))
    observed = lotka_volterra(y0, CFG["dt"], CFG["steps"])
    model = DynamicsNet(CFG["hidden"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    train(model, optimizer, y0, observed, CFG)
    return {"model": model}

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
