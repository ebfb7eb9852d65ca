import torch
import torch.nn as nn
import torch.nn.functional as F

GRAPH = {"nodes": 36, "text_dim": 16, "hidden": 32, "out": 16, "lr": 5e-3, "epochs": 5, "freeze_features": True}


class SAGELayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin_self = nn.Linear(d_in, d_out)
        self.lin_neigh = nn.Linear(d_in, d_out, bias=False)

    def forward(self, h, adj_norm):
        return self.lin_self(h) + self.lin_neigh(adj_norm @ h)


class CoPurchaseLinkModel(nn.Module):
    def __init__(self, cfg, pretrained):
        super().__init__()
        self.node_features = nn.Embedding.from_pretrained(pretrained, freeze=False)
        self.convs = nn.ModuleList([SAGELayer(cfg["text_dim"], cfg["hidden"]), SAGELayer(cfg["hidden"], cfg["out"])])
        self.scorer = nn.Sequential(nn.Linear(cfg["out"], cfg["out"]), nn.ReLU(), nn.Linear(cfg["out"], 1))

    def encode(self, adj_norm):
        h = self.node_features.weight
        for k, conv in enumerate(self.convs):
            h = conv(h, adj_norm)
            h = F.relu(h) if k == 0 else h
        return h

    def forward(self, adj_norm, edges):
        z = self.encode(adj_norm)
        return self.scorer(z[edges[0]] * z[edges[1]]).squeeze(-1)


def freeze_pretrained(model):
    model.module.node_features.weight.requires_grad_(False)


def build_optimizer(model, cfg):
    net = model.module
    encoder = [p for p in list(net.node_features.parameters()) + list(net.convs.parameters()) if p.requires_grad]
    scorer = [p for p in net.scorer.parameters() if p.requires_grad]
    return torch.optim.Adam([{"params": encoder, "lr": cfg["lr"]},
                             {"params": scorer, "lr": 2 * cfg["lr"]}])


def co_purchase_graph(cfg):
    g = torch.Generator().manual_seed(0)
    pretrained = torch.randn(cfg["nodes"], cfg["text_dim"], generator=g)
    src = torch.randint(0, cfg["nodes"], (90,), generator=g)
    dst = (src + torch.randint(1, 5, (90,), generator=g)) % cfg["nodes"]
    adj = torch.zeros(cfg["nodes"], cfg["nodes"])
    adj[src, dst] = adj[dst, src] = 1.0
    return pretrained, adj / adj.sum(1, keepdim=True).clamp(min=1), torch.stack([src, dst])


def train_one_epoch(model, optimizer, adj_norm, pos, cfg, g):
    model.train()
    neg = torch.randint(0, cfg["nodes"], pos.shape, generator=g)
    logits = model(adj_norm, torch.cat([pos, neg], 1))
    labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))])
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def hits_at_k(model, adj_norm, pos, cfg, k=5):
    model.eval()
    z = model.module.encode(adj_norm)
    scores = model.module.scorer(z[pos[0]].unsqueeze(1) * z.unsqueeze(0)).squeeze(-1)
    topk = scores.topk(k, dim=1).indices
    return (topk == pos[1].unsqueeze(1)).any(1).float().mean().item()


def main():
    torch.manual_seed(0)
    pretrained, adj_norm, edges = co_purchase_graph(GRAPH)
    model = nn.DataParallel(CoPurchaseLinkModel(GRAPH, pretrained))
    if GRAPH["freeze_features"]:
        freeze_pretrained(model)
    optimizer = build_optimizer(model, GRAPH)
    feat0 = model.module.node_features.weight.detach().clone()
    sage0 = model.module.convs[0].lin_self.weight.detach().clone()
    g = torch.Generator().manual_seed(1)
    for epoch in range(GRAPH["epochs"]):
        train_one_epoch(model, optimizer, adj_norm, edges, GRAPH, g)
    hits_at_k(model, adj_norm, edges, GRAPH)
    return {"model": model}, {
        "features_changed": not torch.equal(feat0, model.module.node_features.weight),
        "sage_changed": not torch.equal(sage0, model.module.convs[0].lin_self.weight),
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
