import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LearnedRotary(nn.Module):
    """Rotary position encoding whose base frequencies are learned."""

    def __init__(self, dim, max_len=32):
        super().__init__()
        self.log_freq = nn.Parameter(torch.linspace(-4.0, 0.0, dim // 2))
        self.max_len = max_len
        self._table = None

    def table(self):
        if self._table is None:
            pos = torch.arange(self.max_len).float()[:, None]
            angles = pos * self.log_freq.exp()[None]
            self._table = (angles.cos(), angles.sin())
        return self._table

    def forward(self, x):
        cos, sin = self.table()
        cos, sin = cos[: x.size(1)], sin[: x.size(1)]
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class SensorTransformer(nn.Module):
    def __init__(self, n_feat=6, dim=32, n_cls=4):
        super().__init__()
        self.embed = nn.Linear(n_feat, dim)
        self.rotary = LearnedRotary(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(dim, n_cls)

    def forward(self, x):
        h = self.embed(x)
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        q, k = self.rotary(q), self.rotary(k)
        h = h + self.proj(F.scaled_dot_product_attention(q, k, v))
        h = h + self.ff(h)
        return self.head(h.mean(1))


def activity_windows(n=40, length=24):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (n,), generator=g)
    t = torch.arange(length).float()
    x = torch.sin(t[None, :, None] * (y[:, None, None] + 1) * 0.3) + 0.2 * torch.randn(n, length, 6, generator=g)
    return TensorDataset(x, y)


def train(model, loader, optimizer, epochs=1):
    model.train()
    for epoch in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    net = SensorTransformer()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3)
    train(model, DataLoader(activity_windows(), batch_size=10, shuffle=True), optimizer)
    return {"model": net}

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
