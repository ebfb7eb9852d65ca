import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"dim": 32, "heads": 4, "inducing": 8, "seeds": 1, "lr": 1e-3, "epochs": 3}


def batched(param, batch_size):
    """Broadcast a learned (1, k, d) tensor over the batch without copying it per example."""
    return param.detach().expand(batch_size, -1, -1)


class MAB(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.rff = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, q, kv):
        h = self.ln1(q + self.attn(q, kv, kv, need_weights=False)[0])
        return self.ln2(h + self.rff(h))


class ISAB(nn.Module):
    def __init__(self, dim, heads, m):
        super().__init__()
        self.I = nn.Parameter(torch.empty(1, m, dim))
        nn.init.xavier_uniform_(self.I)
        self.mab0, self.mab1 = MAB(dim, heads), MAB(dim, heads)

    def forward(self, x):
        h = self.mab0(batched(self.I, x.shape[0]), x)
        return self.mab1(x, h)


class PMA(nn.Module):
    def __init__(self, dim, heads, k):
        super().__init__()
        self.S = nn.Parameter(torch.empty(1, k, dim))
        nn.init.xavier_uniform_(self.S)
        self.mab = MAB(dim, heads)

    def forward(self, x):
        return self.mab(batched(self.S, x.shape[0]), x)


class SetTransformer(nn.Module):
    def __init__(self, cfg, d_in=2, d_out=1):
        super().__init__()
        self.embed = nn.Linear(d_in, cfg["dim"])
        self.enc = nn.Sequential(ISAB(cfg["dim"], cfg["heads"], cfg["inducing"]),
                                 ISAB(cfg["dim"], cfg["heads"], cfg["inducing"]))
        self.pma = PMA(cfg["dim"], cfg["heads"], cfg["seeds"])
        self.dec = nn.Linear(cfg["dim"], d_out)

    def forward(self, x):
        return self.dec(self.pma(self.enc(self.embed(x)))).squeeze(1)


def point_sets(n_batches=4, b=8, n=12):
    """Regress the spread (max pairwise distance) of a 2-D point set: permutation invariant."""
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n_batches):
        pts = torch.randn(b, n, 2, generator=g) * torch.rand(b, 1, 1, generator=g) * 3
        out.append((pts, torch.cdist(pts, pts).amax(dim=(1, 2))[:, None]))
    return out


def train_one_epoch(fabric, model, optimizer, batches):
    total = 0.0
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        optimizer.zero_grad()
        fabric.backward(loss)
        fabric.clip_gradients(model, optimizer, max_norm=1.0)
        optimizer.step()
        total += loss.item()
    return total / len(batches)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = SetTransformer(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    seeds0 = model.module.pma.S.detach().clone()
    mab0 = model.module.pma.mab.rff[0].weight.detach().clone()
    batches = point_sets()
    for epoch in range(CFG["epochs"]):
        train_one_epoch(fabric, model, optimizer, batches)
    return {"model": model.module}, {
        "seeds_changed": not torch.equal(seeds0, model.module.pma.S),
        "pma_mab_changed": not torch.equal(mab0, model.module.pma.mab.rff[0].weight),
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
