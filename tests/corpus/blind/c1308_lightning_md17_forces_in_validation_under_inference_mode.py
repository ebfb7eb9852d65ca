import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PairEnergyModel(nn.Module):
    """Energy as a sum of learned pair terms over interatomic distances (a minimal SchNet-like readout)."""

    def __init__(self, n_rbf=16, hidden=32, cutoff=3.0):
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n_rbf))
        self.pair_mlp = nn.Sequential(nn.Linear(n_rbf, hidden), nn.SiLU(), nn.Linear(hidden, 1))

    def forward(self, pos):
        diff = pos[:, :, None, :] - pos[:, None, :, :]
        dist = (diff.pow(2).sum(-1) + 1e-9).sqrt()
        rbf = torch.exp(-4.0 * (dist[..., None] - self.centers) ** 2)
        n = pos.size(1)
        mask = ~torch.eye(n, dtype=torch.bool)
        return 0.5 * (self.pair_mlp(rbf).squeeze(-1) * mask).sum((1, 2))


class ForceFieldModule(pl.LightningModule):
    def __init__(self, force_weight=10.0):
        super().__init__()
        self.model = PairEnergyModel()
        self.force_weight = force_weight

    def energy_and_forces(self, pos):
        pos = pos.requires_grad_(True)
        energy = self.model(pos)
        forces = -torch.autograd.grad(energy.sum(), pos, create_graph=self.training)[0]
        return energy, forces

    def training_step(self, batch, batch_idx):
        pos, e_ref, f_ref = batch
        energy, forces = self.energy_and_forces(pos)
        return F.mse_loss(energy, e_ref) + self.force_weight * F.mse_loss(forces, f_ref)

    def validation_step(self, batch, batch_idx):
        pos, e_ref, f_ref = batch
        with torch.enable_grad():
            energy, forces = self.energy_and_forces(pos)
        self.log("val_force_mae", (forces - f_ref).abs().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def make_loaders():
    g = torch.Generator().manual_seed(23)
    pos = torch.randn(40, 5, 3, generator=g)
    energy = pos.pow(2).sum((1, 2))
    forces = -2 * pos
    ds = TensorDataset(pos, energy, forces)
    return DataLoader(ds, batch_size=8, shuffle=True, generator=g), DataLoader(ds, batch_size=20)


def main():
    pl.seed_everything(0)
    module = ForceFieldModule()
    train_loader, val_loader = make_loaders()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(module, train_loader, val_loader)
    return {"module": module}

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
