import torch
import torch.nn as nn
import torch.nn.functional as F

HP = {"nodes": 30, "in_dim": 10, "hidden": 24, "out": 12, "lr": 0.1, "epochs": 5, "eval_threshold": 0.5}


class SAGEMean(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin_self = nn.Linear(d_in, d_out)
        self.lin_neigh = nn.Linear(d_in, d_out)

    def forward(self, h, adj_norm):
        return self.lin_self(h) + self.lin_neigh(adj_norm @ h)


class SAGELinkModel(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.sage1 = SAGEMean(hp["in_dim"], hp["hidden"])
        self.sage2 = SAGEMean(hp["hidden"], hp["out"])
        self.bilinear = nn.Bilinear(hp["out"], hp["out"], 1)

    def embed(self, x, adj_norm):
        return self.sage2(F.relu(self.sage1(x, adj_norm)), adj_norm)

    def forward(self, x, adj_norm, edges):
        z = self.embed(x, adj_norm)
        scores = self.bilinear(z[edges[0]], z[edges[1]]).squeeze(-1)
        return torch.round(torch.sigmoid(scores))


def citation_graph(hp):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(hp["nodes"], hp["in_dim"], generator=g)
    src = torch.randint(0, hp["nodes"], (80,), generator=g)
    dst = (src + 1 + torch.randint(0, 3, (80,), generator=g)) % hp["nodes"]
    adj = torch.zeros(hp["nodes"], hp["nodes"])
    adj[src, dst] = adj[dst, src] = 1.0
    deg = adj.sum(1, keepdim=True).clamp(min=1)
    return x, adj / deg, torch.stack([src, dst])


def split_edges(edges, ratio=0.8):
    n = int(edges.size(1) * ratio)
    return edges[:, :n], edges[:, n:]


def negative_edges(num_nodes, count, g):
    return torch.randint(0, num_nodes, (2, count), generator=g)


def train_one_epoch(model, optimizer, x, adj_norm, train_pos, hp, g):
    model.train()
    neg = negative_edges(hp["nodes"], train_pos.size(1), g)
    probs = model(x, adj_norm, torch.cat([train_pos, neg], 1))
    labels = torch.cat([torch.ones(train_pos.size(1)), torch.zeros(neg.size(1))])
    loss = F.binary_cross_entropy(probs.clamp(1e-4, 1 - 1e-4), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def link_accuracy(model, x, adj_norm, pos, hp, g):
    model.eval()
    neg = negative_edges(hp["nodes"], pos.size(1), g)
    pred = model(x, adj_norm, torch.cat([pos, neg], 1))
    labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))])
    return ((pred > hp["eval_threshold"]).float() == labels).float().mean().item()


def build_optimizer(model, hp):
    net = model.module if isinstance(model, nn.DataParallel) else model
    encoder = list(net.sage1.parameters()) + list(net.sage2.parameters())
    return torch.optim.SGD([
        {"params": encoder, "lr": hp["lr"]},
        {"params": net.bilinear.parameters(), "lr": hp["lr"] * 0.5},
    ])


def main():
    torch.manual_seed(0)
    x, adj_norm, edges = citation_graph(HP)
    train_pos, val_pos = split_edges(edges)
    model = nn.DataParallel(SAGELinkModel(HP))
    optimizer = build_optimizer(model, HP)
    snapshot = {k: v.clone() for k, v in model.module.state_dict().items()}
    g = torch.Generator().manual_seed(1)
    history = []
    for epoch in range(HP["epochs"]):
        history.append(train_one_epoch(model, optimizer, x, adj_norm, train_pos, HP, g))
        if epoch % 2 == 0:
            print(f"epoch {epoch} loss {history[-1]:.4f} val acc {link_accuracy(model, x, adj_norm, val_pos, HP, g):.3f}")
    changed = any(not torch.equal(snapshot[k], v) for k, v in model.module.state_dict().items())
    return {"model": model}, {"model_changed": changed}

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
