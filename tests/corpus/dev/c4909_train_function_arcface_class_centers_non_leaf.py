import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 20, "emb_dim": 16, "n_classes": 6, "scale": 16.0, "margin": 0.3, "lr": 0.05, "epochs": 2}


class Embedder(nn.Module):
    def __init__(self, in_dim, emb_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, emb_dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


def build_class_centers(n_classes, emb_dim):
    """ArcFace class centres: small random init, trained jointly with the embedder."""
    return torch.randn(n_classes, emb_dim, requires_grad=True) * 0.01


def arcface_logits(emb, centers, labels, scale, margin):
    cos = emb @ F.normalize(centers, dim=-1).t()
    theta = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
    target = torch.cos(theta + margin)
    onehot = F.one_hot(labels, cos.shape[1]).bool()
    return scale * torch.where(onehot, target, cos)


def train(model, centers, loader, optimizer, cfg):
    model.train()
    for _ in range(cfg["epochs"]):
        for x, y in loader:
            loss = F.cross_entropy(arcface_logits(model(x), centers, y, cfg["scale"], cfg["margin"]), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def make_loader(cfg, n=96):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, cfg["n_classes"], (n,), generator=g)
    protos = torch.randn(cfg["n_classes"], cfg["in_dim"], generator=g)
    x = protos[y] + 0.3 * torch.randn(n, cfg["in_dim"], generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = Embedder(CFG["in_dim"], CFG["emb_dim"])
    centers = build_class_centers(CFG["n_classes"], CFG["emb_dim"])
    optimizer = torch.optim.SGD([{"params": model.parameters()}, {"params": [centers], "weight_decay": 5e-4}],
                                lr=CFG["lr"], momentum=0.9)
    train(model, centers, make_loader(CFG), optimizer, CFG)
    return {"model": model, "centers": centers}

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
