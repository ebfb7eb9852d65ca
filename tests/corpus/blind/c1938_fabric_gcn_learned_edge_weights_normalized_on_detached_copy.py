import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


def gcn_norm(edge_index, edge_weight, num_nodes):
    """Symmetric normalization D^-1/2 (A + I) D^-1/2 on an edge list, self-loops added."""
    w = edge_weight.detach()
    loops = torch.arange(num_nodes)
    row = torch.cat([edge_index[0], loops])
    col = torch.cat([edge_index[1], loops])
    w = torch.cat([w, torch.ones(num_nodes)])
    deg = torch.zeros(num_nodes).index_add_(0, col, w)
    inv_sqrt = deg.pow(-0.5)
    return row, col, inv_sqrt[row] * w * inv_sqrt[col]


class GCNLayer(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)

    def forward(self, x, row, col, norm_w):
        h = self.lin(x)
        return torch.zeros_like(h).index_add_(0, col, norm_w[:, None] * h[row])


class EdgeWeightedGCN(nn.Module):
    """Node classifier that learns how much to trust each (noisy) edge of the interaction graph."""

    def __init__(self, num_edges, in_dim=8, hidden=16, n_classes=3):
        super().__init__()
        self.edge_logits = nn.Parameter(torch.zeros(num_edges))
        self.conv1 = GCNLayer(in_dim, hidden)
        self.conv2 = GCNLayer(hidden, n_classes)

    def forward(self, x, edge_index):
        edge_weight = torch.sigmoid(self.edge_logits)
        row, col, norm_w = gcn_norm(edge_index, edge_weight, x.size(0))
        h = F.relu(self.conv1(x, row, col, norm_w))
        return self.conv2(F.dropout(h, 0.2, self.training), row, col, norm_w)


def train(fabric, model, optimizer, x, edge_index, y, train_mask, epochs=30):
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train_mask], y[train_mask])
        fabric.backward(loss)
        optimizer.step()
    return loss.item()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    n, e = 20, 60
    x = torch.randn(n, 8)
    edge_index = torch.randint(0, n, (2, e))
    y = torch.randint(0, 3, (n,))
    train_mask = torch.arange(n) < 12
    net = EdgeWeightedGCN(num_edges=e)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=5e-4)
    model, optimizer = fabric.setup(net, optimizer)
    train(fabric, model, optimizer, x, edge_index, y, train_mask)
    return {"model": net}, {"edge_weights_learned": bool(net.edge_logits.detach().abs().sum() > 0)}

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
