import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class AffineCoupling(nn.Module):
    """RealNVP coupling: the first half conditions an affine map of the second half."""

    def __init__(self, dim=6, hidden=32):
        super().__init__()
        self.d = dim // 2
        self.st = nn.Sequential(nn.Linear(self.d, hidden), nn.ReLU(), nn.Linear(hidden, 2 * (dim - self.d)))

    def forward(self, x):
        s, t = self.st(x[:, :self.d]).chunk(2, dim=1)
        s = torch.tanh(s)
        x[:, self.d:] = x[:, self.d:] * torch.exp(s) + t
        return x, s.sum(dim=1)


class Permute(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("perm", torch.randperm(dim))

    def forward(self, x):
        return x[:, self.perm], torch.zeros(x.size(0))


class RealNVP(nn.Module):
    def __init__(self, dim=6, n_blocks=3):
        super().__init__()
        layers = []
        for _ in range(n_blocks):
            layers += [AffineCoupling(dim), Permute(dim)]
        self.layers = nn.ModuleList(layers)
        self.dim = dim

    def log_prob(self, x):
        logdet = torch.zeros(x.size(0))
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return -0.5 * (x ** 2).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + logdet


def fit(flow, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for (x,) in loader:
            nll = -flow.log_prob(x).mean()
            optimizer.zero_grad()
            nll.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(96, 6, generator=g) @ torch.randn(6, 6, generator=g)
    loader = DataLoader(TensorDataset(data), batch_size=32, shuffle=True, generator=g)
    flow = RealNVP()
    fit(flow, loader, torch.optim.Adam(flow.parameters(), lr=1e-3))
    return {"flow": flow}

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
