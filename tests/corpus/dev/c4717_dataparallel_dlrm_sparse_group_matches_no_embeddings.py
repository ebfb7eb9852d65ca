import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"table_sizes": [50, 30, 20], "emb_dim": 8, "dense_in": 6, "lr_dense": 1e-3, "lr_sparse": 0.05,
       "sparse_key": "embedding", "epochs": 4}


class DLRM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["emb_dim"]
        self.emb_l = nn.ModuleList(nn.EmbeddingBag(n, d, mode="sum") for n in cfg["table_sizes"])
        self.bot_l = nn.Sequential(nn.Linear(cfg["dense_in"], 16), nn.ReLU(), nn.Linear(16, d), nn.ReLU())
        n_feat = len(cfg["table_sizes"]) + 1
        self.top_l = nn.Sequential(nn.Linear(d + n_feat * (n_feat - 1) // 2, 16), nn.ReLU(), nn.Linear(16, 1))

    def interact(self, x, ly):
        T = torch.stack([x] + ly, dim=1)
        Z = torch.bmm(T, T.transpose(1, 2))
        li, lj = torch.tril_indices(T.size(1), T.size(1), offset=-1)
        return torch.cat([x, Z[:, li, lj]], dim=1)

    def forward(self, dense, sparse_idx, sparse_off):
        x = self.bot_l(dense)
        ly = [emb(sparse_idx[:, k], sparse_off[:, k]) for k, emb in enumerate(self.emb_l)]
        return self.top_l(self.interact(x, ly)).squeeze(-1)


def build_optimizer(model, cfg):
    net = model.module if isinstance(model, nn.DataParallel) else model
    dense = list(net.bot_l.parameters()) + list(net.top_l.parameters())
    sparse = [p for n, p in net.named_parameters() if cfg["sparse_key"] in n]
    return torch.optim.Adagrad([{"params": dense, "lr": cfg["lr_dense"]},
                                {"params": sparse, "lr": cfg["lr_sparse"]}])


def click_logs(cfg, n=64, bag=2):
    g = torch.Generator().manual_seed(0)
    dense = torch.randn(n, cfg["dense_in"], generator=g)
    idx = torch.stack([torch.randint(0, s, (n * bag,), generator=g) for s in cfg["table_sizes"]], dim=1)
    off = torch.arange(0, n * bag, bag).unsqueeze(1).repeat(1, len(cfg["table_sizes"]))
    y = (dense[:, 0] > 0).float()
    return dense, idx, off, y


def train(model, optimizer, data, cfg):
    dense, idx, off, y = data
    for epoch in range(cfg["epochs"]):
        logits = model(dense, idx.T.reshape(len(cfg["table_sizes"]), -1).T, off)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(DLRM(CFG))
    optimizer = build_optimizer(model, CFG)
    emb0 = model.module.emb_l[0].weight.detach().clone()
    top0 = model.module.top_l[0].weight.detach().clone()
    train(model, optimizer, click_logs(CFG), CFG)
    return {"model": model.module}, {
        "embeddings_changed": not torch.equal(emb0, model.module.emb_l[0].weight),
        "top_mlp_changed": not torch.equal(top0, model.module.top_l[0].weight),
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
