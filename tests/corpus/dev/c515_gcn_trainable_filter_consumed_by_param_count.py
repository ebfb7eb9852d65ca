import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphConv(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)

    def forward(self, x, adj_norm):
        return adj_norm @ self.lin(x)


class GCN(nn.Module):
    def __init__(self, in_dim=16, hidden=32, n_classes=4, dropout=0.2):
        super().__init__()
        self.conv1 = GraphConv(in_dim, hidden)
        self.conv2 = GraphConv(hidden, n_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, adj_norm):
        h = self.dropout(F.relu(self.conv1(x, adj_norm)))
        return self.conv2(h, adj_norm)


def normalized_adjacency(edge_index, n):
    adj = torch.zeros(n, n)
    adj[edge_index[0], edge_index[1]] = 1.0
    adj = adj + adj.t() + torch.eye(n)
    adj = (adj > 0).float()
    d = adj.sum(1).rsqrt()
    return d[:, None] * adj * d[None, :]


def trainable_parameters(model):
    return filter(lambda p: p.requires_grad, model.parameters())


def count_parameters(params):
    return sum(p.numel() for p in params)


def configure_optimizer(model, cfg):
    params = trainable_parameters(model)
    cfg["n_trainable"] = count_parameters(params)
    return torch.optim.Adam(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])


def train(model, data, optimizer, epochs=20):
    x, adj, y, train_mask = data
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, adj)[train_mask], y[train_mask])
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 60
    x = torch.randn(n, 16, generator=g)
    edge_index = torch.randint(0, n, (2, 150), generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    train_mask = torch.rand(n, generator=g) < 0.5
    data = (x, normalized_adjacency(edge_index, n), y, train_mask)
    model = GCN()
    cfg = {"lr": 1e-2, "weight_decay": 5e-4}
    optimizer = configure_optimizer(model, cfg)
    train(model, data, optimizer)
    return {"model": model}, {"n_trainable": cfg["n_trainable"]}

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
