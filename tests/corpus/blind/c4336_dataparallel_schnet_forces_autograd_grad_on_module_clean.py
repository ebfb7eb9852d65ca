import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SchNetBlock(nn.Module):
    def __init__(self, dim, n_rbf, cutoff):
        super().__init__()
        self.filter_net = nn.Sequential(nn.Linear(n_rbf, dim), nn.Softplus(), nn.Linear(dim, dim))
        self.atom_in = nn.Linear(dim, dim, bias=False)
        self.atom_out = nn.Sequential(nn.Linear(dim, dim), nn.Softplus(), nn.Linear(dim, dim))
        self.cutoff = cutoff

    def forward(self, h, rbf, d, i, j):
        cut = 0.5 * (torch.cos(d * math.pi / self.cutoff) + 1.0)
        m = self.atom_in(h)[j] * self.filter_net(rbf) * cut[:, None]
        return h + self.atom_out(torch.zeros_like(h).index_add(0, i, m))


class SchNetPotential(nn.Module):
    def __init__(self, max_z=5, dim=16, n_rbf=10, cutoff=4.0):
        super().__init__()
        self.embedding = nn.Embedding(max_z, dim)
        self.blocks = nn.ModuleList([SchNetBlock(dim, n_rbf, cutoff) for _ in range(2)])
        self.atomwise = nn.Sequential(nn.Linear(dim, 8), nn.Softplus(), nn.Linear(8, 1))
        self.register_buffer("offsets", torch.linspace(0, cutoff, n_rbf))

    def forward(self, z, pos):
        n = len(z)
        i, j = (~torch.eye(n, dtype=torch.bool)).nonzero(as_tuple=True)
        d = (pos[j] - pos[i]).norm(dim=-1)
        rbf = torch.exp(-5.0 * (d[:, None] - self.offsets) ** 2)
        h = self.embedding(z)
        for blk in self.blocks:
            h = blk(h, rbf, d, i, j)
        return self.atomwise(h).sum()


def predict_energy_forces(model, z, pos, training):
    pos = pos.clone().requires_grad_(True)
    energy = model(z, pos)
    forces = -torch.autograd.grad(energy, pos, create_graph=training)[0]
    return energy, forces


def harmonic_bonds(pos, k=2.0, r0=1.0):
    p = pos.clone().requires_grad_(True)
    d = (p[1:] - p[:-1]).norm(dim=-1)
    e = (k * (d - r0) ** 2).sum()
    return e.detach(), -torch.autograd.grad(e, p)[0]


def train_epoch(model, data, optimizer, cfg):
    model.train()
    for z, pos, e_ref, f_ref in data:
        energy, forces = predict_energy_forces(model, z, pos, training=True)
        loss = cfg["energy_w"] * (energy - e_ref) ** 2 + cfg["force_w"] * F.mse_loss(forces, f_ref)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def validate(model, data):
    model.eval()
    err = 0.0
    for z, pos, e_ref, f_ref in data:
        _, forces = predict_energy_forces(model, z, pos, training=False)
        err += (forces.detach() - f_ref).abs().mean().item()
    return err / len(data)


def main():
    torch.manual_seed(0)
    cfg = {"energy_w": 0.1, "force_w": 1.0, "lr": 1e-3}
    net = SchNetPotential()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.module.parameters(), lr=cfg["lr"])
    g = torch.Generator().manual_seed(0)
    data = []
    for _ in range(8):
        pos = torch.cumsum(torch.randn(4, 3, generator=g) * 0.3 + torch.tensor([1.0, 0.0, 0.0]), 0)
        z = torch.randint(1, 5, (4,), generator=g)
        data.append((z, pos, *harmonic_bonds(pos)))
    filt0 = model.module.blocks[1].filter_net[0].weight.detach().clone()
    for _ in range(2):
        train_epoch(model, data, optimizer, cfg)
    mae = validate(model, data)
    return {"model": net}, {"filter_changed": not torch.equal(filt0, model.module.blocks[1].filter_net[0].weight),
                            "val_force_mae_finite": math.isfinite(mae)}

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
