import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class ResidualGraphConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.self_lin = nn.Linear(dim, dim)
        self.neigh_lin = nn.Linear(dim, dim)

    def forward(self, h, adj_norm):
        out = F.relu(self.self_lin(h))
        out += adj_norm @ self.neigh_lin(h)
        return out + h


class MolecularPropertyGNN(nn.Module):
    def __init__(self, n_feat=5, dim=16, layers=2):
        super().__init__()
        self.embed = nn.Linear(n_feat, dim)
        self.convs = nn.ModuleList(ResidualGraphConv(dim) for _ in range(layers))
        self.head = nn.Linear(dim, 1)

    def forward(self, x, adj_norm, pool):
        h = self.embed(x)
        for conv in self.convs:
            h = conv(h, adj_norm)
        return self.head(pool @ h).squeeze(-1)


def ring_batch(n_mols=4, atoms=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = n_mols * atoms
    adj = torch.zeros(n, n)
    for m in range(n_mols):
        for i in range(atoms):
            a, b = m * atoms + i, m * atoms + (i + 1) % atoms
            adj[a, b] = adj[b, a] = 1.0
    deg = adj.sum(1)
    adj_norm = adj / deg[:, None]
    x = torch.randn(n, 5, generator=g)
    pool = torch.kron(torch.eye(n_mols), torch.ones(1, atoms)) / atoms
    y = pool @ x[:, 0]
    return x, adj_norm, pool, y


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MolecularPropertyGNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = accelerator.prepare(model, optimizer)
    for step in range(4):
        x, adj_norm, pool, y = ring_batch(seed=step)
        loss = F.mse_loss(model(x, adj_norm, pool), y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
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
