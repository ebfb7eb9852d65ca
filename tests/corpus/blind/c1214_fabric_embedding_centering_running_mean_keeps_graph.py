import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class EmbeddingCentering(nn.Module):
    def __init__(self, dim, momentum=0.9):
        super().__init__()
        self.momentum = momentum
        self.running_mean = torch.zeros(dim)

    def forward(self, h):
        if self.training:
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * h.mean(0)
        return h - self.running_mean


class RetrievalEncoder(nn.Module):
    def __init__(self, in_dim=24, dim=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))
        self.center = EmbeddingCentering(dim)

    def forward(self, x):
        return F.normalize(self.center(self.mlp(x)), dim=-1)


def contrastive_loss(za, zb, temperature=0.2):
    logits = za @ zb.t() / temperature
    return F.cross_entropy(logits, torch.arange(za.size(0)))


def train(fabric, model, optimizer, pairs):
    model.train()
    for xa, xb in pairs:
        optimizer.zero_grad()
        loss = contrastive_loss(model(xa), model(xb))
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = RetrievalEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    pairs = []
    for _ in range(4):
        base = torch.randn(16, 24, generator=g)
        pairs.append((base + 0.1 * torch.randn(16, 24, generator=g), base + 0.1 * torch.randn(16, 24, generator=g)))
    train(fabric, model, optimizer, pairs)
    return {"model": model.module}

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
