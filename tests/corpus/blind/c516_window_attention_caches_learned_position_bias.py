import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ContinuousPositionBias(nn.Module):
    """Swin-v2 style: an MLP maps relative (dy, dx) offsets to a per-head attention bias."""

    def __init__(self, window=4, heads=2, hidden=16):
        super().__init__()
        self.window, self.heads = window, heads
        self.mlp = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        self.register_buffer("rel", (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).float() / window,
                             persistent=False)
        self._cached_bias = None

    def forward(self):
        if self._cached_bias is None:
            self._cached_bias = self.mlp(self.rel).permute(2, 0, 1)
        return self._cached_bias


class WindowAttention(nn.Module):
    def __init__(self, dim=16, window=4, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.pos_bias = ContinuousPositionBias(window, heads)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)) / (d // self.heads) ** 0.5 + self.pos_bias()
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d))


class PatchClassifier(nn.Module):
    def __init__(self, dim=16, n_classes=3):
        super().__init__()
        self.embed = nn.Linear(12, dim)
        self.attn = WindowAttention(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, patches):
        h = self.embed(patches)
        h = h + self.attn(h)
        return self.head(h.mean(1))


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for patches, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(patches), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    patches = torch.randn(32, 16, 12, generator=g)
    y = torch.randint(0, 3, (32,), generator=g)
    loader = DataLoader(TensorDataset(patches, y), batch_size=8, shuffle=True, generator=g)
    model = PatchClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
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
