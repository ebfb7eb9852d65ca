import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def full_graph(n_atoms):
    i, j = torch.meshgrid(torch.arange(n_atoms), torch.arange(n_atoms), indexing="ij")
    keep = i != j
    return i[keep], j[keep]


def triplet_index(i, j, n_edges):
    """Edge pairs (k->j, j->i) sharing the middle atom j, k != i."""
    e_kj, e_ji = torch.meshgrid(torch.arange(n_edges), torch.arange(n_edges), indexing="ij")
    share = (i[e_kj] == j[e_ji]) & (j[e_kj] != i[e_ji])
    return e_kj[share], e_ji[share]


class AngularBasis(nn.Module):
    """Fourier basis of the bond angle with learnable frequencies."""

    def __init__(self, n_sbf):
        super().__init__()
        self.freq = nn.Parameter(torch.arange(1, n_sbf + 1, dtype=torch.float32))

    def forward(self, cos_angle):
        theta = torch.acos(cos_angle.clamp(-0.999, 0.999))
        return torch.cos(theta[:, None] * self.freq)


def build_triplets(pos, i, j, angle_basis):
    with torch.no_grad():
        e_kj, e_ji = triplet_index(i, j, i.numel())
        v_kj = pos[j[e_kj]] - pos[i[e_kj]]
        v_ji = pos[j[e_ji]] - pos[i[e_ji]]
        cos = F.cosine_similarity(-v_kj, v_ji, dim=-1)
        sbf = angle_basis(cos)
    return e_kj, e_ji, sbf


class DirectionalInteraction(nn.Module):
    def __init__(self, dim, n_rbf, n_sbf):
        super().__init__()
        self.rbf_proj = nn.Linear(n_rbf, dim)
        self.sbf_proj = nn.Linear(n_sbf, dim)
        self.msg = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, m, rbf, sbf, e_kj, e_ji):
        x = self.msg(m)[e_kj] * self.sbf_proj(sbf)
        agg = torch.zeros_like(m).index_add(0, e_ji, x)
        return m + agg * self.rbf_proj(rbf)


class MiniDimeNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.atom_emb = nn.Embedding(cfg["max_z"], cfg["dim"])
        self.edge_in = nn.Linear(2 * cfg["dim"] + cfg["n_rbf"], cfg["dim"])
        self.angle_basis = AngularBasis(cfg["n_sbf"])
        self.blocks = nn.ModuleList([DirectionalInteraction(cfg["dim"], cfg["n_rbf"], cfg["n_sbf"])
                                     for _ in range(cfg["n_blocks"])])
        self.out = nn.Linear(cfg["dim"], 1)
        self.register_buffer("mu", torch.linspace(0.5, 4.0, cfg["n_rbf"]))

    def forward(self, z, pos, i, j):
        d = (pos[j] - pos[i]).norm(dim=-1)
        rbf = torch.exp(-4.0 * (d[:, None] - self.mu) ** 2)
        e_kj, e_ji, sbf = build_triplets(pos, i, j, self.angle_basis)
        h = self.atom_emb(z)
        m = F.silu(self.edge_in(torch.cat([h[i], h[j], rbf], -1)))
        for block in self.blocks:
            m = block(m, rbf, sbf, e_kj, e_ji)
        atom = torch.zeros_like(h).index_add(0, i, m)
        return self.out(atom).sum()


def make_molecules(n=10, n_atoms=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    mols = []
    for _ in range(n):
        z = torch.randint(1, 5, (n_atoms,), generator=g)
        pos = torch.randn(n_atoms, 3, generator=g)
        a, b, c = pos[0] - pos[1], pos[2] - pos[1], pos[3] - pos[2]
        energy = torch.cos(torch.acos(F.cosine_similarity(a, b, dim=0))) + 0.1 * c.norm()
        mols.append((z, pos, energy))
    return mols


def train(model, step_fn, mols, optimizer, epochs, i, j):
    for _ in range(epochs):
        for z, pos, e_ref in mols:
            loss = (step_fn(z, pos, i, j) - e_ref) ** 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    cfg = {"max_z": 6, "dim": 16, "n_rbf": 8, "n_sbf": 6, "n_blocks": 2, "lr": 2e-3, "epochs": 2}
    model = MiniDimeNet(cfg)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    i, j = full_graph(4)
    freq0 = model.angle_basis.freq.detach().clone()
    sbf0 = model.blocks[0].sbf_proj.weight.detach().clone()
    train(model, compiled, make_molecules(), optimizer, cfg["epochs"], i, j)
    return {"model": model}, {
        "angle_freq_changed": not torch.equal(freq0, model.angle_basis.freq),
        "sbf_proj_changed": not torch.equal(sbf0, model.blocks[0].sbf_proj.weight),
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
