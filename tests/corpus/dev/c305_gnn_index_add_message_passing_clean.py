import torch
import torch.nn as nn
import torch.nn.functional as F


class MeanAggConv(nn.Module):
    """One round of message passing written by hand: messages along edges, mean over incoming edges."""

    def __init__(self, dim):
        super().__init__()
        self.msg = nn.Linear(2 * dim, dim)
        self.upd = nn.Linear(2 * dim, dim)

    def forward(self, h, edge_index):
        src, dst = edge_index
        messages = F.relu(self.msg(torch.cat([h[src], h[dst]], dim=-1)))
        agg = torch.zeros_like(h).index_add_(0, dst, messages)
        deg = torch.zeros(h.size(0)).index_add_(0, dst, torch.ones(dst.numel()))
        agg = agg / deg.clamp(min=1).unsqueeze(-1)
        return F.relu(self.upd(torch.cat([h, agg], dim=-1)))


class NodeClassifier(nn.Module):
    def __init__(self, n_nodes, dim=16, n_classes=3):
        super().__init__()
        self.node_emb = nn.Embedding(n_nodes, dim)
        self.convs = nn.ModuleList([MeanAggConv(dim), MeanAggConv(dim)])
        self.head = nn.Linear(dim, n_classes)

    def forward(self, node_ids, edge_index):
        h = self.node_emb(node_ids)
        for conv in self.convs:
            h = h + conv(h, edge_index)
        return self.head(h)


def random_graph(n_nodes=30, n_edges=90, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n_nodes, (n_edges,), generator=g)
    dst = torch.randint(0, n_nodes, (n_edges,), generator=g)
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    labels = torch.randint(0, 3, (n_nodes,), generator=g)
    train_mask = torch.rand(n_nodes, generator=g) < 0.6
    return edge_index, labels, train_mask


def train(model, graph, optimizer, epochs=15):
    edge_index, labels, mask = graph
    node_ids = torch.arange(labels.numel())
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        logits = model(node_ids, edge_index)
        loss = F.cross_entropy(logits[mask], labels[mask])
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.node_emb.weight.renorm_(2, 0, 1.0)


def main():
    torch.manual_seed(0)
    graph = random_graph()
    model = NodeClassifier(n_nodes=30)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    msg_before = model.convs[0].msg.weight.detach().clone()
    train(model, graph, optimizer)
    facts = {"message_fn_changed": not torch.equal(msg_before, model.convs[0].msg.weight.detach())}
    return {"model": model}, facts

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
