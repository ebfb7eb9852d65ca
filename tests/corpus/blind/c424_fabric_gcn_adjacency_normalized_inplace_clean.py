import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


@torch.no_grad()
def normalize_adjacency(adj):
    a_hat = adj.clone()
    a_hat.add_(torch.eye(adj.size(0)))
    deg = a_hat.sum(dim=1)
    deg.pow_(-0.5)
    deg.masked_fill_(torch.isinf(deg), 0.0)
    a_hat.mul_(deg.unsqueeze(1)).mul_(deg.unsqueeze(0))
    return a_hat


class GCNLayer(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_dim, out_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x, a_norm):
        return a_norm @ (x @ self.weight) + self.bias


class GCN(nn.Module):
    def __init__(self, in_dim=10, hidden=16, n_classes=3, dropout=0.3):
        super().__init__()
        self.gc1 = GCNLayer(in_dim, hidden)
        self.gc2 = GCNLayer(hidden, n_classes)
        self.dropout = dropout

    def forward(self, x, a_norm):
        h = F.dropout(F.relu(self.gc1(x, a_norm)), self.dropout, self.training)
        return self.gc2(h, a_norm)


def make_graph(n=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=g)
    x = F.one_hot(labels, 10).float() + 0.5 * torch.randn(n, 10, generator=g)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    adj = ((torch.rand(n, n, generator=g) < 0.3) & same).float()
    adj = ((adj + adj.t()) > 0).float()
    adj.fill_diagonal_(0)
    return x, adj, labels


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    x, adj, labels = make_graph()
    a_norm = normalize_adjacency(adj)
    train_mask = torch.arange(30) % 3 != 0
    model = GCN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=5e-4)
    model, optimizer = fabric.setup(model, optimizer)
    accs = []
    for epoch in range(30):
        model.train()
        optimizer.zero_grad()
        out = model(x, a_norm)
        loss = F.cross_entropy(out[train_mask], labels[train_mask])
        fabric.backward(loss)
        optimizer.step()
        model.eval()
        with torch.no_grad():
            pred = model(x, a_norm).argmax(1)
            accs.append((pred[~train_mask] == labels[~train_mask]).float().mean().item())
    return {"model": model.module}, {"test_acc_improved": accs[-1] > accs[0], "adj_untouched": bool(adj.diagonal().sum().item() == 0)}

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
