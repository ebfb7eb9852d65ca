import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

SPECIES = ("H", "C", "N", "O")


class AtomicNetworks(nn.Module):
    """One small MLP per element maps an atomic environment vector to an atomic energy."""

    def __init__(self, aev_dim=16, hidden=24):
        super().__init__()
        self.nets = nn.ModuleDict({s: nn.Sequential(nn.Linear(aev_dim, hidden), nn.CELU(0.1), nn.Linear(hidden, 1))
                                   for s in SPECIES})

    def forward(self, species, aevs):
        energies = torch.zeros(species.shape, dtype=aevs.dtype)
        for i, s in enumerate(SPECIES):
            mask = species == i
            if mask.any():
                energies = energies.masked_scatter(mask, self.nets[s](aevs[mask]).squeeze(-1))
        return energies.sum(dim=1)


class EnergyShifter(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("self_energies", torch.tensor([-0.5, -37.8, -54.6, -75.0]))

    def forward(self, species):
        return self.self_energies[species].sum(dim=1)


def validate(model, shifter, loader):
    torch.set_grad_enabled(False)
    model.train(False)
    total, count = 0.0, 0
    for species, aevs, energies in loader:
        pred = model(species, aevs) + shifter(species)
        total += F.mse_loss(pred, energies, reduction="sum").item()
        count += energies.numel()
    model.train(True)
    return (total / count) ** 0.5


def train(accelerator, model, shifter, optimizer, scheduler, train_loader, val_loader, epochs=2):
    history = []
    for epoch in range(epochs):
        for species, aevs, energies in train_loader:
            pred = model(species, aevs) + shifter(species)
            loss = F.mse_loss(pred, energies)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
        scheduler.step()
        history.append(validate(model, shifter, val_loader))
    return history


def fake_molecules(n, atoms=6, aev_dim=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    species = torch.randint(0, 4, (n, atoms), generator=g)
    aevs = torch.randn(n, atoms, aev_dim, generator=g)
    energies = torch.tensor([-0.5, -37.8, -54.6, -75.0])[species].sum(1) + 0.1 * aevs[..., 0].sum(1)
    return TensorDataset(species, aevs, energies)


def main():
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    model, shifter = AtomicNetworks(), EnergyShifter()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    train_loader = DataLoader(fake_molecules(32), batch_size=8, shuffle=True)
    val_loader = DataLoader(fake_molecules(16, seed=1), batch_size=8)
    model, optimizer, train_loader, val_loader, scheduler = accelerator.prepare(
        model, optimizer, train_loader, val_loader, scheduler)
    train(accelerator, model, shifter, optimizer, scheduler, train_loader, val_loader)
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
