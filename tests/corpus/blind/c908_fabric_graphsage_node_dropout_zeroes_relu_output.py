import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def drop_nodes(h, p, training):
    """DropNode: remove whole node representations during training."""
    if training and p > 0:
        drop = torch.rand(h.shape[0]) < p
        h[drop] = 0.0
        h = h / (1 - p)
    return h


class SAGELayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.self_lin = nn.Linear(d_in, d_out)
        self.neigh_lin = nn.Linear(d_in, d_out, bias=False)

    def forward(self, x, adj_mean):
        return self.self_lin(x) + self.neigh_lin(adj_mean @ x)


class GraphSAGE(nn.Module):
    def __init__(self, d_in=8, hidden=32, n_classes=3, p_drop=0.2):
        super().__init__()
        self.sage1 = SAGELayer(d_in, hidden)
        self.sage2 = SAGELayer(hidden, n_classes)
        self.p_drop = p_drop

    def forward(self, x, adj_mean):
        h = F.relu(self.sage1(x, adj_mean))
        h = drop_nodes(h, self.p_drop, self.training)
        return self.sage2(h, adj_mean)


def build_graph(n=40, n_edges=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    adj = torch.zeros(n, n)
    src, dst = torch.randint(0, n, (2, n_edges), generator=g)
    adj[src, dst] = 1.0
    adj[dst, src] = 1.0
    adj_mean = adj / adj.sum(1, keepdim=True).clamp(min=1)
    return x, adj_mean, x[:, :3].argmax(-1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    x, adj_mean, labels = build_graph()
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.arange(len(x))), batch_size=10, shuffle=True))
    model = GraphSAGE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    model.train()
    for _ in range(2):
        for (idx,) in loader:
            loss = F.cross_entropy(model(x, adj_mean)[idx], labels[idx])
            optimizer.zero_grad()
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
