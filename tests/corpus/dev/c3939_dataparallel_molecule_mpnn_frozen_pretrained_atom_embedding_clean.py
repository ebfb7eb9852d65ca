import torch
import torch.nn as nn
import torch.nn.functional as F


class MessagePassing(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.msg = nn.Linear(2 * dim, dim)
        self.upd = nn.GRUCell(dim, dim)

    def forward(self, h, edge_index):
        src, dst = edge_index
        m = F.relu(self.msg(torch.cat([h[src], h[dst]], -1)))
        agg = torch.zeros_like(h).index_add(0, dst, m)
        return self.upd(agg, h)


class MoleculeGNN(nn.Module):
    def __init__(self, n_atom_types=6, dim=16, steps=2):
        super().__init__()
        self.atom_embedding = nn.Embedding(n_atom_types, dim)
        self.layers = nn.ModuleList(MessagePassing(dim) for _ in range(steps))
        self.readout = nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, atoms, edge_index, graph_ids, n_graphs):
        h = self.atom_embedding(atoms)
        for layer in self.layers:
            h = layer(h, edge_index)
        pooled = torch.zeros(n_graphs, h.shape[1]).index_add(0, graph_ids, h)
        return self.readout(pooled).squeeze(-1)


def random_molecules(n_graphs=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    atoms, edges, gid, offset = [], [], [], 0
    for k in range(n_graphs):
        n = int(torch.randint(3, 7, (1,), generator=g))
        atoms.append(torch.randint(0, 6, (n,), generator=g))
        for i in range(n - 1):
            edges += [(offset + i, offset + i + 1), (offset + i + 1, offset + i)]
        gid.append(torch.full((n,), k))
        offset += n
    atoms = torch.cat(atoms)
    target = torch.zeros(n_graphs).index_add(0, torch.cat(gid), (atoms == 2).float())
    return atoms, torch.tensor(edges).t(), torch.cat(gid), target


def load_pretrained_atom_embedding(model):
    with torch.no_grad():
        model.atom_embedding.weight.copy_(torch.linspace(-1, 1, 6)[:, None].repeat(1, 16))
    model.atom_embedding.weight.requires_grad_(False)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(MoleculeGNN())
    load_pretrained_atom_embedding(model.module)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    emb0 = model.module.atom_embedding.weight.detach().clone()
    msg0 = model.module.layers[0].msg.weight.detach().clone()
    for step in range(6):
        atoms, edge_index, gid, target = random_molecules(seed=step)
        pred = model(atoms, edge_index, gid, 8)
        loss = F.mse_loss(pred, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        atoms, edge_index, gid, target = random_molecules(seed=99)
        val = F.mse_loss(model(atoms, edge_index, gid, 8), target).item()
    return {"model": model.module}, {
        "embedding_kept": torch.equal(emb0, model.module.atom_embedding.weight),
        "message_passing_changed": not torch.equal(msg0, model.module.layers[0].msg.weight),
        "val_finite": val == val,
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
