import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class HamiltonianField(nn.Module):
    """Vector field of a Hamiltonian neural network: dq/dt = dH/dp, dp/dt = -dH/dq."""

    def __init__(self, hidden=32):
        super().__init__()
        self.energy = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, z):
        if not z.requires_grad:
            z = z.detach().requires_grad_(True)
        H = self.energy(z).sum()
        dH = torch.autograd.grad(H, z, create_graph=True)[0]
        return torch.stack([dH[:, 1], -dH[:, 0]], dim=1)


class HNNModule(pl.LightningModule):
    def __init__(self, dt=0.1, steps=5):
        super().__init__()
        self.field = HamiltonianField()
        self.dt, self.steps = dt, steps

    def rollout(self, z0):
        traj = [z0]
        with torch.no_grad():
            z = z0
            for _ in range(self.steps):
                z = z + self.dt * self.field(z)
                traj.append(z)
        return torch.stack(traj, dim=1)

    def training_step(self, batch, batch_idx):
        z0, target = batch
        loss = F.mse_loss(self.rollout(z0), target)
        self.log("rollout_mse", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def spring_trajectories(n=32, steps=5, dt=0.1):
    z = torch.randn(n, 2)
    traj = [z]
    for _ in range(steps):
        q, p = z[:, 0], z[:, 1]
        z = torch.stack([q + dt * p, p - dt * q], dim=1)
        traj.append(z)
    return torch.stack(traj, dim=1)


def main():
    pl.seed_everything(0)
    traj = spring_trajectories()
    loader = DataLoader(TensorDataset(traj[:, 0], traj), batch_size=8, shuffle=True)
    model = HNNModule()
    pl.Trainer(max_epochs=1, logger=False).fit(model, loader)
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
