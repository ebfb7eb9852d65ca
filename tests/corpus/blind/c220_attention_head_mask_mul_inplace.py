import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SelfAttention(nn.Module):
    def __init__(self, dim=32, heads=4, attn_drop=0.1):
        super().__init__()
        self.heads, self.dk = heads, dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.attn_drop = attn_drop

    def _shape(self, t, b, n):
        return t.view(b, n, self.heads, self.dk).transpose(1, 2)

    def forward(self, x, head_mask=None):
        b, n, d = x.shape
        q, k, v = (self._shape(f(x), b, n) for f in (self.q, self.k, self.v))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dk), dim=-1)
        if head_mask is not None:
            # prune heads (HF-style head_mask: 1 keeps a head, 0 drops it)
            probs.mul_(head_mask.view(1, -1, 1, 1))
        probs = F.dropout(probs, self.attn_drop, self.training)
        return self.o((probs @ v).transpose(1, 2).reshape(b, n, d))


class Encoder(nn.Module):
    def __init__(self, dim=32, n_classes=2):
        super().__init__()
        self.inp = nn.Linear(8, dim)
        self.attn = SelfAttention(dim)
        self.norm = nn.LayerNorm(dim)
        self.cls = nn.Linear(dim, n_classes)

    def forward(self, x, head_mask=None):
        h = self.inp(x)
        h = self.norm(h + self.attn(h, head_mask))
        return self.cls(h.mean(1))


def train(model, loader, optimizer, head_mask, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x, head_mask), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 6, 8), torch.randint(0, 2, (32,))), batch_size=8, shuffle=True)
    model = Encoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    head_mask = torch.tensor([1.0, 1.0, 0.0, 1.0])
    train(model, loader, optimizer, head_mask)
    return {"model": model}

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
