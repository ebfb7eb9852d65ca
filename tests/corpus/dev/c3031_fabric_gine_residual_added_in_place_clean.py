import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class GINEConv(nn.Module):
    """GINE layer: messages relu(x_j + edge_attr) summed at the target, then an MLP."""

    def __init__(self, dim, edge_dim):
        super().__init__()
        self.edge_proj = nn.Linear(edge_dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.eps = nn.Parameter(torch.zeros(1))

    def forward(self, x, edge_index, edge_attr):
        src, dst = edge_index
        msg = F.relu(x[src] + self.edge_proj(edge_attr))
        agg = torch.zeros_like(x).index_add_(0, dst, msg)
        out = self.mlp((1 + self.eps) * x + agg)
        out += x  # residual
        return out


class MoleculeRegressor(nn.Module):
    def __init__(self, n_atom_types=10, dim=16, edge_dim=4):
        super().__init__()
        self.atom_embed = nn.Embedding(n_atom_types, dim)
        self.convs = nn.ModuleList([GINEConv(dim, edge_dim) for _ in range(2)])
        self.readout = nn.Linear(dim, 1)

    def forward(self, atoms, edge_index, edge_attr, batch, n_graphs):
        x = self.atom_embed(atoms)
        for conv in self.convs:
            x = conv(x, edge_index, edge_attr)
        pooled = torch.zeros(n_graphs, x.shape[1]).index_add(0, batch, x)
        return self.readout(pooled).squeeze(-1)


def make_batch(n_graphs=6, atoms_per=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = n_graphs * atoms_per
    batch = torch.arange(n_graphs).repeat_interleave(atoms_per)
    src = torch.randint(0, atoms_per, (n_graphs, 8), generator=g) + torch.arange(n_graphs)[:, None] * atoms_per
    dst = torch.randint(0, atoms_per, (n_graphs, 8), generator=g) + torch.arange(n_graphs)[:, None] * atoms_per
    edge_index = torch.stack([src.flatten(), dst.flatten()])
    return (torch.randint(0, 10, (n,), generator=g), edge_index, torch.randn(edge_index.shape[1], 4, generator=g), batch,
            torch.randn(n_graphs, generator=g))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = MoleculeRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    model, optimizer = fabric.setup(model, optimizer)
    batches = [make_batch(seed=s) for s in range(3)]
    w0 = model.convs[0].mlp[0].weight.detach().clone()
    for epoch in range(3):
        for atoms, edge_index, edge_attr, batch, y in batches:
            pred = model(atoms, edge_index, edge_attr, batch, 6)
            loss = F.mse_loss(pred, y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        scheduler.step()
    return {"model": model.module}, {"conv_changed": not torch.equal(w0, model.convs[0].mlp[0].weight)}

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
