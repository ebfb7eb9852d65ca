import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset


class CFConvBlock(nn.Module):
    def __init__(self, dim, n_rbf, cutoff):
        super().__init__()
        self.filt = nn.Sequential(nn.Linear(n_rbf, dim), nn.Softplus(), nn.Linear(dim, dim))
        self.lin1 = nn.Linear(dim, dim, bias=False)
        self.lin2 = nn.Sequential(nn.Linear(dim, dim), nn.Softplus(), nn.Linear(dim, dim))
        self.cutoff = cutoff

    def forward(self, h, rbf, d, i, j):
        c = 0.5 * (torch.cos(d * math.pi / self.cutoff) + 1.0)
        msg = self.lin1(h)[j] * self.filt(rbf) * c[:, None]
        return h + self.lin2(torch.zeros_like(h).index_add(0, i, msg))


class SchNetWithAtomRef(pl.LightningModule):
    """Energy = sum of per-atom network outputs + a learned per-element reference energy."""

    def __init__(self, cfg):
        super().__init__()
        self.embedding = nn.Embedding(cfg["max_z"], cfg["dim"])
        self.blocks = nn.ModuleList([CFConvBlock(cfg["dim"], cfg["n_rbf"], cfg["cutoff"]) for _ in range(2)])
        self.atomwise = nn.Sequential(nn.Linear(cfg["dim"], cfg["dim"] // 2), nn.Softplus(), nn.Linear(cfg["dim"] // 2, 1))
        self.atom_ref = nn.Parameter(torch.zeros(cfg["max_z"]))[:, None]
        self.register_buffer("centers", torch.linspace(0.0, cfg["cutoff"], cfg["n_rbf"]))
        self.cfg = cfg

    def forward(self, z, pos, batch_idx_atoms, n_mol):
        same = batch_idx_atoms[:, None] == batch_idx_atoms[None, :]
        i, j = (same & ~torch.eye(len(z), dtype=torch.bool)).nonzero(as_tuple=True)
        d = (pos[j] - pos[i]).norm(dim=-1)
        rbf = torch.exp(-10.0 * (d[:, None] - self.centers) ** 2)
        h = self.embedding(z)
        for block in self.blocks:
            h = block(h, rbf, d, i, j)
        atomic = self.atomwise(h) + self.atom_ref[z]
        return torch.zeros(n_mol, 1).index_add(0, batch_idx_atoms, atomic).squeeze(-1)

    def training_step(self, batch, batch_idx):
        z, pos, mol_idx, energy = batch["z"], batch["pos"], batch["mol_idx"], batch["energy"]
        pred = self(z, pos, mol_idx, energy.shape[0])
        loss = F.mse_loss(pred, energy)
        self.log("train/energy_mse", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


class Molecules(Dataset):
    def __init__(self, n=24, n_atoms=4, seed=0):
        g = torch.Generator().manual_seed(seed)
        ref = torch.tensor([0.0, -0.5, -37.8, -54.6, -75.0])
        self.mols = []
        for _ in range(n):
            z = torch.randint(1, 5, (n_atoms,), generator=g)
            pos = torch.randn(n_atoms, 3, generator=g)
            e = ref[z].sum() + 0.1 * torch.pdist(pos).sum()
            self.mols.append((z, pos, e))

    def __len__(self):
        return len(self.mols)

    def __getitem__(self, k):
        return self.mols[k]


def collate(mols):
    z = torch.cat([m[0] for m in mols])
    pos = torch.cat([m[1] for m in mols])
    mol_idx = torch.cat([torch.full((len(m[0]),), k) for k, m in enumerate(mols)])
    return {"z": z, "pos": pos, "mol_idx": mol_idx, "energy": torch.stack([m[2] for m in mols])}


def main():
    pl.seed_everything(0)
    cfg = {"max_z": 5, "dim": 16, "n_rbf": 10, "cutoff": 4.0, "lr": 5e-3}
    model = SchNetWithAtomRef(cfg)
    ref0 = model.atom_ref.detach().clone()
    emb0 = model.embedding.weight.detach().clone()
    loader = DataLoader(Molecules(), batch_size=6, shuffle=True, collate_fn=collate)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model, "atom_ref": model.atom_ref}, {
        "atom_ref_changed": not torch.equal(ref0, model.atom_ref),
        "embedding_changed": not torch.equal(emb0, model.embedding.weight),
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
