import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

CFG = {"tables": [40, 25], "dim": 8, "dense_in": 5, "lr_sparse": 0.1, "lr_dense": 1e-3, "epochs": 2}


class CTRNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.sparse_arch = nn.ModuleList(nn.EmbeddingBag(n, cfg["dim"], mode="sum", sparse=True) for n in cfg["tables"])
        self.dense_arch = nn.Sequential(nn.Linear(cfg["dense_in"], cfg["dim"]), nn.ReLU())
        self.over_arch = nn.Sequential(nn.Linear(cfg["dim"] * (len(cfg["tables"]) + 1), 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, dense, idx, offsets):
        embs = [bag(idx[:, k], offsets) for k, bag in enumerate(self.sparse_arch)]
        return self.over_arch(torch.cat([self.dense_arch(dense)] + embs, dim=1)).squeeze(-1)


def build_optimizers(model, cfg):
    sparse = torch.optim.SparseAdam(list(model.sparse_arch.parameters()), lr=cfg["lr_sparse"])
    dense = torch.optim.Adam(list(model.dense_arch.parameters()) + list(model.over_arch.parameters()), lr=cfg["lr_dense"])
    return sparse, dense


def loader(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    dense = torch.randn(n, cfg["dense_in"], generator=g)
    idx = torch.stack([torch.randint(0, t, (n,), generator=g) for t in cfg["tables"]], dim=1)
    y = (dense[:, 0] + (idx[:, 0] % 2) > 0.5).float()
    return DataLoader(TensorDataset(dense, idx, y), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = CTRNet(CFG)
    opt_sparse, opt_dense = build_optimizers(model, CFG)
    model, opt_sparse, opt_dense, train_loader = accelerator.prepare(model, opt_sparse, opt_dense, loader(CFG))
    e0 = model.sparse_arch[0].weight.detach().clone()
    o0 = model.over_arch[0].weight.detach().clone()
    for epoch in range(CFG["epochs"]):
        for dense, idx, y in train_loader:
            logits = model(dense, idx, torch.arange(idx.size(0)))
            loss = F.binary_cross_entropy_with_logits(logits, y)
            opt_sparse.zero_grad()
            opt_dense.zero_grad()
            accelerator.backward(loss)
            opt_sparse.step()
            opt_dense.step()
    return {"model": model}, {
        "embeddings_changed": not torch.equal(e0, model.sparse_arch[0].weight),
        "over_arch_changed": not torch.equal(o0, model.over_arch[0].weight),
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
