import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"n_nodes": 24, "in_dim": 8, "hidden": 16, "n_classes": 3, "lr": 0.01, "epochs": 6}


class HardGraphAttention(nn.Module):
    """GAT layer in plain torch; each node aggregates from its best-scoring neighbour (hard attention)."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.W = nn.Linear(in_dim, out_dim, bias=False)
        self.att_src = nn.Parameter(torch.randn(out_dim) * 0.1)
        self.att_dst = nn.Parameter(torch.randn(out_dim) * 0.1)

    def edge_scores(self, wh, adj):
        e = F.leaky_relu((wh @ self.att_dst)[:, None] + (wh @ self.att_src)[None, :], 0.2)
        return e.masked_fill(adj == 0, float("-inf"))

    def forward(self, x, adj):
        wh = self.W(x)
        scores = self.edge_scores(wh, adj)
        alpha = F.one_hot(scores.argmax(dim=-1), num_classes=adj.shape[0]).to(wh.dtype)
        return F.elu(alpha @ wh + wh)


class GATClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gat = HardGraphAttention(cfg["in_dim"], cfg["hidden"])
        self.head = nn.Linear(cfg["hidden"], cfg["n_classes"])

    def forward(self, x, adj):
        return self.head(self.gat(x, adj))


def random_graph(cfg):
    g = torch.Generator().manual_seed(0)
    n = cfg["n_nodes"]
    adj = (torch.rand(n, n, generator=g) < 0.2).float()
    adj = ((adj + adj.t() + torch.eye(n)) > 0).float()
    y = torch.randint(0, cfg["n_classes"], (n,), generator=g)
    x = F.one_hot(y, cfg["n_classes"]).float().repeat(1, 3)[:, :cfg["in_dim"]] + 0.5 * torch.randn(n, cfg["in_dim"], generator=g)
    train_mask = torch.rand(n, generator=g) < 0.6
    return x, adj, y, train_mask


def train(model, compiled, data, optimizer, epochs):
    x, adj, y, mask = data
    for _ in range(epochs):
        model.train()
        loss = F.cross_entropy(compiled(x, adj)[mask], y[mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = GATClassifier(CFG)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"], weight_decay=5e-4)
    att0 = model.gat.att_src.detach().clone()
    train(model, compiled, random_graph(CFG), optimizer, CFG["epochs"])
    return {"model": model}, {"attention_changed": not torch.equal(att0, model.gat.att_src)}

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
