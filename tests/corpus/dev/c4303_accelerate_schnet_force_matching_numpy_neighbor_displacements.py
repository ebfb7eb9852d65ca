import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset


def neighbor_displacements(pos, cutoff):
    """Pairs within the cutoff and their displacement vectors r_j - r_i (numpy, like an ASE neighbour list)."""
    p = pos.detach().cpu().numpy()
    diff = p[None, :, :] - p[:, None, :]
    dist = np.linalg.norm(diff, axis=-1)
    i, j = np.nonzero((dist < cutoff) & (dist > 0))
    return torch.as_tensor(i), torch.as_tensor(j), torch.as_tensor(diff[i, j], dtype=pos.dtype)


class GaussianRBF(nn.Module):
    def __init__(self, n_rbf, cutoff):
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n_rbf))
        self.gamma = 10.0 / cutoff

    def forward(self, d):
        return torch.exp(-self.gamma * (d[:, None] - self.centers) ** 2)


class CFConv(nn.Module):
    """Continuous-filter convolution of SchNet."""

    def __init__(self, dim, n_rbf, cutoff):
        super().__init__()
        self.filter_net = nn.Sequential(nn.Linear(n_rbf, dim), nn.Softplus(), nn.Linear(dim, dim))
        self.in_proj = nn.Linear(dim, dim, bias=False)
        self.out = nn.Sequential(nn.Linear(dim, dim), nn.Softplus(), nn.Linear(dim, dim))
        self.cutoff = cutoff

    def forward(self, h, i, j, rbf, d):
        envelope = 0.5 * (torch.cos(d * math.pi / self.cutoff) + 1.0)
        w = self.filter_net(rbf) * envelope[:, None]
        msg = self.in_proj(h)[j] * w
        agg = torch.zeros_like(h).index_add(0, i, msg)
        return h + self.out(agg)


class SchNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embedding = nn.Embedding(cfg["max_z"], cfg["dim"])
        self.rbf = GaussianRBF(cfg["n_rbf"], cfg["cutoff"])
        self.interactions = nn.ModuleList([CFConv(cfg["dim"], cfg["n_rbf"], cfg["cutoff"])
                                           for _ in range(cfg["n_interactions"])])
        self.readout = nn.Sequential(nn.Linear(cfg["dim"], cfg["dim"] // 2), nn.Softplus(),
                                     nn.Linear(cfg["dim"] // 2, 1))
        self.cutoff = cfg["cutoff"]

    def forward(self, z, pos):
        i, j, vec = neighbor_displacements(pos, self.cutoff)
        d = vec.norm(dim=-1)
        rbf = self.rbf(d)
        h = self.embedding(z)
        for block in self.interactions:
            h = block(h, i, j, rbf, d)
        return self.readout(h).sum()


class PairPotentialMolecules(Dataset):
    """Small random molecules labelled with a Morse-like pair energy and its forces."""

    def __init__(self, n=12, n_atoms=5, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for _ in range(n):
            z = torch.randint(1, 4, (n_atoms,), generator=g)
            pos = torch.randn(n_atoms, 3, generator=g) * 0.9
            p = pos.clone().requires_grad_(True)
            r = torch.cdist(p, p) + torch.eye(n_atoms)
            e = ((1 - torch.exp(-(r - 1.0))) ** 2 * (1 - torch.eye(n_atoms))).sum() / 2
            f = -torch.autograd.grad(e, p)[0]
            self.items.append((z, pos, e.detach(), f.detach()))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, k):
        return self.items[k]


def train_one_epoch(model, loader, optimizer, accelerator, cfg):
    total = 0.0
    for z, pos, e_ref, f_ref in loader:
        z, pos = z[0], pos[0].clone().requires_grad_(True)
        energy = model(z, pos)
        forces = -torch.autograd.grad(energy, pos, create_graph=True)[0]
        loss = (energy - e_ref[0]) ** 2 + cfg["force_weight"] * F.mse_loss(forces, f_ref[0])
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    set_seed(0)
    cfg = {"max_z": 5, "dim": 16, "n_rbf": 12, "cutoff": 3.0, "n_interactions": 2, "force_weight": 10.0, "lr": 1e-3}
    accelerator = Accelerator()
    model = SchNet(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    loader = DataLoader(PairPotentialMolecules(), batch_size=1, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    filt0 = model.interactions[0].filter_net[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator, cfg)
    return {"model": model}, {"filter_changed": not torch.equal(filt0, model.interactions[0].filter_net[0].weight)}

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
