import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"num_nodes": 40, "feat_dim": 12, "hidden": 32, "out": 16, "decoder": "mlp",
       "lr_encoder": 5e-3, "lr_decoder": 1e-2, "epochs": 6, "neg_ratio": 1}


class SAGEConv(nn.Module):
    """Mean aggregator: h_v' = W_self h_v + W_neigh mean_{u in N(v)} h_u."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin_self = nn.Linear(in_dim, out_dim)
        self.lin_neigh = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x, adj_norm):
        return self.lin_self(x) + self.lin_neigh(adj_norm @ x)


class SAGEEncoder(nn.Module):
    def __init__(self, in_dim, hidden, out):
        super().__init__()
        self.convs = nn.ModuleList([SAGEConv(in_dim, hidden), SAGEConv(hidden, out)])

    def forward(self, x, adj_norm):
        for k, conv in enumerate(self.convs):
            x = conv(x, adj_norm)
            if k < len(self.convs) - 1:
                x = F.relu(x)
        return F.normalize(x, dim=-1)


class DotDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(5.0))

    def forward(self, z, edges):
        return self.scale * (z[edges[0]] * z[edges[1]]).sum(-1)


class MLPDecoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, z, edges):
        return self.mlp(torch.cat([z[edges[0]] * z[edges[1]], (z[edges[0]] - z[edges[1]]).abs()], -1)).squeeze(-1)


class LinkPredictor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = SAGEEncoder(cfg["feat_dim"], cfg["hidden"], cfg["out"])
        self.decoder = DotDecoder()

    def forward(self, x, adj_norm, edges):
        return self.decoder(self.encoder(x, adj_norm), edges)


def build_decoder(cfg):
    return MLPDecoder(cfg["out"]) if cfg["decoder"] == "mlp" else DotDecoder()


def build_optimizer(model, cfg):
    net = model.module if isinstance(model, nn.DataParallel) else model
    return torch.optim.Adam([
        {"params": net.encoder.parameters(), "lr": cfg["lr_encoder"]},
        {"params": net.decoder.parameters(), "lr": cfg["lr_decoder"]},
    ])


def random_graph(cfg):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(cfg["num_nodes"], cfg["feat_dim"], generator=g)
    src = torch.randint(0, cfg["num_nodes"], (120,), generator=g)
    dst = (src + torch.randint(1, 4, (120,), generator=g)) % cfg["num_nodes"]
    edges = torch.stack([src, dst])
    adj = torch.zeros(cfg["num_nodes"], cfg["num_nodes"])
    adj[src, dst] = 1.0
    adj[dst, src] = 1.0
    adj_norm = adj / adj.sum(1, keepdim=True).clamp(min=1)
    return x, adj_norm, edges


def train_one_epoch(model, optimizer, x, adj_norm, pos_edges, cfg, g):
    model.train()
    neg_edges = torch.randint(0, cfg["num_nodes"], pos_edges.shape, generator=g)
    logits = model(x, adj_norm, torch.cat([pos_edges, neg_edges], dim=1))
    labels = torch.cat([torch.ones(pos_edges.size(1)), torch.zeros(neg_edges.size(1))])
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    x, adj_norm, edges = random_graph(CFG)
    model = nn.DataParallel(LinkPredictor(CFG))
    optimizer = build_optimizer(model, CFG)
    if CFG["decoder"] == "mlp":
        model.module.decoder = build_decoder(CFG)
    dec0 = model.module.decoder.mlp[0].weight.detach().clone()
    enc0 = model.module.encoder.convs[0].lin_self.weight.detach().clone()
    g = torch.Generator().manual_seed(1)
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, optimizer, x, adj_norm, edges, CFG, g)
    return {"model": model}, {
        "decoder_changed": not torch.equal(dec0, model.module.decoder.mlp[0].weight),
        "encoder_changed": not torch.equal(enc0, model.module.encoder.convs[0].lin_self.weight),
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
