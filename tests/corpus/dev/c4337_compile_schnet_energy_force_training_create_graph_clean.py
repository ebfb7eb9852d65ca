import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ShiftedSoftplus(nn.Module):
    def forward(self, x):
        return F.softplus(x) - math.log(2.0)


class Interaction(nn.Module):
    def __init__(self, dim, n_rbf):
        super().__init__()
        self.filter_net = nn.Sequential(nn.Linear(n_rbf, dim), ShiftedSoftplus(), nn.Linear(dim, dim))
        self.lin_in = nn.Linear(dim, dim, bias=False)
        self.lin_out = nn.Sequential(nn.Linear(dim, dim), ShiftedSoftplus(), nn.Linear(dim, dim))

    def forward(self, h, rbf, i, j, envelope):
        w = self.filter_net(rbf) * envelope[:, None]
        agg = torch.zeros_like(h).index_add(0, i, self.lin_in(h)[j] * w)
        return h + self.lin_out(agg)


class SchNetEnergy(nn.Module):
    def __init__(self, max_z=6, dim=16, n_rbf=10, cutoff=3.0, n_blocks=2):
        super().__init__()
        self.embedding = nn.Embedding(max_z, dim)
        self.blocks = nn.ModuleList([Interaction(dim, n_rbf) for _ in range(n_blocks)])
        self.readout = nn.Sequential(nn.Linear(dim, dim // 2), ShiftedSoftplus(), nn.Linear(dim // 2, 1))
        self.register_buffer("centers", torch.linspace(0, cutoff, n_rbf))
        self.cutoff = cutoff

    def forward(self, z, pos, i, j):
        d = (pos[j] - pos[i]).norm(dim=-1)
        rbf = torch.exp(-5.0 * (d[:, None] - self.centers) ** 2)
        envelope = 0.5 * (torch.cos(d * math.pi / self.cutoff) + 1.0) * (d < self.cutoff)
        h = self.embedding(z)
        for block in self.blocks:
            h = block(h, rbf, i, j, envelope)
        return self.readout(h).sum()


def energy_and_forces(energy_fn, z, pos, i, j):
    pos = pos.detach().clone().requires_grad_(True)
    energy = energy_fn(z, pos, i, j)
    forces = -torch.autograd.grad(energy, pos, create_graph=True)[0]
    return energy, forces


def lennard_jones_reference(pos, eps=0.3, sigma=1.0):
    p = pos.clone().requires_grad_(True)
    r = torch.pdist(p)
    e = (4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)).sum()
    return e.detach(), -torch.autograd.grad(e, p)[0]


def train(energy_fn, model, data, optimizer, cfg):
    n = data[0][1].shape[0]
    ii, jj = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    mask = ii != jj
    i, j = ii[mask], jj[mask]
    for _ in range(cfg["epochs"]):
        for z, pos, e_ref, f_ref in data:
            energy, forces = energy_and_forces(energy_fn, z, pos, i, j)
            loss = cfg["rho"] * (energy - e_ref) ** 2 + F.mse_loss(forces, f_ref)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    cfg = {"epochs": 2, "lr": 1e-3, "rho": 0.01}
    model = SchNetEnergy()
    energy_fn = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    g = torch.Generator().manual_seed(0)
    data = []
    for _ in range(8):
        pos = torch.randn(4, 3, generator=g) * 0.6 + torch.arange(4.0)[:, None] * 0.9
        z = torch.randint(1, 6, (4,), generator=g)
        e_ref, f_ref = lennard_jones_reference(pos)
        data.append((z, pos, e_ref, f_ref))
    filt0 = model.blocks[0].filter_net[0].weight.detach().clone()
    train(energy_fn, model, data, optimizer, cfg)
    return {"model": model}, {"filter_net_changed": not torch.equal(filt0, model.blocks[0].filter_net[0].weight)}

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
