import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Dynamics(nn.Module):
    def __init__(self, dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Softplus(), nn.Linear(hidden, dim))

    def forward(self, t, y):
        tt = torch.full_like(y[:, :1], float(t))
        return self.net(torch.cat([y, tt], dim=1))


def rk4_solve(func, y0, t_grid):
    ys = [y0]
    y = y0
    for t0, t1 in zip(t_grid[:-1], t_grid[1:]):
        dt = float(t1 - t0)
        k1 = func(t0, y)
        k2 = func(t0 + dt / 2, y + dt / 2 * k1)
        k3 = func(t0 + dt / 2, y + dt / 2 * k2)
        k4 = func(t1, y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.stack(ys, dim=1)


def make_trajectories(n=32, steps=8):
    g = torch.Generator().manual_seed(0)
    y0 = torch.randn(n, 2, generator=g)
    t = torch.linspace(0, 1, steps)
    angle = t.view(1, -1, 1) * 2.0
    rot = torch.cat([torch.cos(angle), torch.sin(angle)], dim=-1)
    traj = y0.unsqueeze(1) * rot
    return DataLoader(TensorDataset(y0, traj), batch_size=16, shuffle=True, generator=g), t


def train(func, loader, t_grid, optimizer, epochs=3, max_norm=1.0):
    history = []
    for _ in range(epochs):
        for y0, traj in loader:
            pred = rk4_solve(func, y0, t_grid)
            loss = F.mse_loss(pred, traj)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(func.parameters(), max_norm)
            optimizer.step()
            history.append(loss.detach())
    return torch.stack(history)


@torch.no_grad()
def evaluate(func, loader, t_grid):
    total = 0.0
    for y0, traj in loader:
        pred = rk4_solve(func, y0, t_grid)
        pred.clamp_(-10, 10)
        total += F.mse_loss(pred, traj, reduction="sum").item()
    return total


def main():
    torch.manual_seed(0)
    loader, t_grid = make_trajectories()
    func = Dynamics()
    optimizer = torch.optim.Adam(func.parameters(), lr=1e-2)
    before = evaluate(func, loader, t_grid)
    history = train(func, loader, t_grid, optimizer)
    after = evaluate(func, loader, t_grid)
    return {"func": func}, {"eval_error_decreased": after < before, "history_requires_grad": history.requires_grad}

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
