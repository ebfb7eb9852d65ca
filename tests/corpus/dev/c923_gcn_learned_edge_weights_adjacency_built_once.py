import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GraphConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)

    def forward(self, x, adj):
        return adj @ self.lin(x)


class EdgeWeightedGCN(nn.Module):
    def __init__(self, n_edges, d_in=8, hidden=16, n_classes=3):
        super().__init__()
        self.edge_logits = nn.Parameter(torch.zeros(n_edges))
        self.conv1 = GraphConv(d_in, hidden)
        self.conv2 = GraphConv(hidden, n_classes)

    def normalized_adjacency(self, edge_index, n):
        w = torch.sigmoid(self.edge_logits)
        a = torch.zeros(n, n).index_put((edge_index[0], edge_index[1]), w, accumulate=True)
        a = a + a.t() + torch.eye(n)
        d = a.sum(1).rsqrt()
        return d[:, None] * a * d[None, :]

    def forward(self, x, adj):
        return self.conv2(F.relu(self.conv1(x, adj)), adj)


def train(model, adj, x, labels, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for (idx,) in loader:
            logits = model(x, adj)
            loss = F.cross_entropy(logits[idx], labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    n_nodes = 30
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_nodes, 8, generator=g)
    labels = x[:, :3].argmax(-1)
    edge_index = torch.randint(0, n_nodes, (2, 90), generator=g)
    model = EdgeWeightedGCN(edge_index.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    adj = model.normalized_adjacency(edge_index, n_nodes)
    loader = DataLoader(TensorDataset(torch.arange(n_nodes)), batch_size=10, shuffle=True, generator=g)
    train(model, adj, x, labels, loader, optimizer)
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
