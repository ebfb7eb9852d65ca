import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dim": 2, "hidden": 32, "n_steps": 16, "dt": 0.1, "lr": 5e-3, "epochs": 2}


class VectorField(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, dim))

    def forward(self, y):
        return self.net(y)


def odeint_rk4(func, y0, n_steps, dt):
    """Fixed-step RK4 in the style of scipy.integrate.odeint: states in, trajectory array out."""
    def f(y):
        return func(torch.from_numpy(y).float()).detach().numpy()

    y = y0.detach().numpy().astype(np.float64)
    traj = [y]
    for _ in range(n_steps - 1):
        k1 = f(y)
        k2 = f(y + dt / 2 * k1)
        k3 = f(y + dt / 2 * k2)
        k4 = f(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        traj.append(y)
    return np.stack(traj, axis=1)


class NeuralODEModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.field = VectorField(cfg["dim"], cfg["hidden"])

    def forward(self, y0):
        traj = odeint_rk4(self.field, y0, self.cfg["n_steps"], self.cfg["dt"])
        return torch.from_numpy(traj).float()

    def training_step(self, batch, batch_idx):
        (obs,) = batch
        pred = self(obs[:, 0])
        loss = F.mse_loss(pred, obs)
        self.log("traj_mse", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def oscillator_loader(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    y0 = torch.randn(n, cfg["dim"], generator=g)
    ts = torch.arange(cfg["n_steps"]) * cfg["dt"]
    c, s = torch.cos(ts), torch.sin(ts)
    traj = torch.stack([y0[:, :1] * c + y0[:, 1:] * s, -y0[:, :1] * s + y0[:, 1:] * c], dim=-1)
    return DataLoader(TensorDataset(traj), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = NeuralODEModule(CFG)
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, oscillator_loader(CFG))
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
