import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class MessagePassing(nn.Module):
    """h_i' = relu(W_self h_i + sum_j W_msg h_j) over a dense (padded) molecular adjacency."""

    def __init__(self, dim):
        super().__init__()
        self.w_self = nn.Linear(dim, dim)
        self.w_msg = nn.Linear(dim, dim, bias=False)

    def forward(self, h, adj):
        return F.relu(self.w_self(h) + adj @ self.w_msg(h))


class MoleculeEncoder(nn.Module):
    def __init__(self, n_atom_types=9, dim=32, depth=3):
        super().__init__()
        self.atom_embed = nn.Embedding(n_atom_types, dim)
        self.layers = nn.ModuleList(MessagePassing(dim) for _ in range(depth))

    def forward(self, atoms, adj):
        h = self.atom_embed(atoms)
        for layer in self.layers:
            h_in = h
            h = layer(h, adj)
            h += h_in  # residual connection
        return h.sum(1)


class PropertyPredictor(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.encoder = MoleculeEncoder(dim=dim)
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, atoms, adj):
        return self.head(self.encoder(atoms, adj)).squeeze(-1)


def random_molecules(n=32, atoms=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    types = torch.randint(0, 9, (n, atoms), generator=g)
    bonds = (torch.rand(n, atoms, atoms, generator=g) > 0.75).float()
    adj = torch.triu(bonds, 1)
    adj = adj + adj.transpose(1, 2)
    docking = (types.float().mean(1) - 4) + 0.1 * adj.sum((1, 2)) / atoms
    return types, adj, docking


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    types, adj, target = random_molecules()
    model = PropertyPredictor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    for i in range(0, 32, 8):
        optimizer.zero_grad()
        loss = F.mse_loss(model(types[i:i + 8], adj[i:i + 8]), target[i:i + 8])
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
