import torch
import torch.nn as nn
import torch.nn.functional as F


def drop_edges_(alpha, adj, p, generator):
    """DropEdge on the attention matrix: zero a random subset of existing edges (self loops kept)."""
    drop = (torch.rand(alpha.shape, generator=generator) < p) & (adj > 0)
    drop &= ~torch.eye(alpha.shape[-1], dtype=torch.bool)
    alpha[drop] = 0.0
    return alpha


class GraphAttentionLayer(nn.Module):
    def __init__(self, d_in, d_out, edge_drop=0.2, seed=0):
        super().__init__()
        self.W = nn.Linear(d_in, d_out, bias=False)
        self.a_src = nn.Linear(d_out, 1, bias=False)
        self.a_dst = nn.Linear(d_out, 1, bias=False)
        self.edge_drop = edge_drop
        self.gen = torch.Generator().manual_seed(seed)

    def forward(self, x, adj):
        h = self.W(x)
        scores = F.leaky_relu(self.a_src(h) + self.a_dst(h).T, 0.2)
        scores = scores.masked_fill(adj == 0, float("-inf"))
        alpha = torch.softmax(scores, dim=-1)
        if self.training and self.edge_drop > 0:
            alpha = drop_edges_(alpha, adj, self.edge_drop, self.gen)
        return alpha @ h


class GAT(nn.Module):
    def __init__(self, d_in=6, hidden=8, n_classes=3):
        super().__init__()
        self.layer1 = GraphAttentionLayer(d_in, hidden, seed=1)
        self.layer2 = GraphAttentionLayer(hidden, n_classes, seed=2)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x, adj):
        h = F.elu(self.norm(self.layer1(x, adj)))
        return self.layer2(F.dropout(h, 0.1, self.training), adj)


def make_graph(n=20, d=6):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    labels = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    adj = (torch.rand(n, n, generator=g) < 0.2).float()
    adj = ((adj + adj.T + torch.eye(n)) > 0).float()
    train_mask = torch.rand(n, generator=g) < 0.6
    return x, adj, labels, train_mask


def train(model, optimizer, graph, epochs=5):
    x, adj, labels, train_mask = graph
    model.train()
    for epoch in range(epochs):
        logits = model(x, adj)
        loss = F.cross_entropy(logits[train_mask], labels[train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    net = GAT()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=5e-4)
    train(model, optimizer, make_graph())
    return {"gat": net}

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
