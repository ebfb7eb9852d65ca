import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class CouplingNet(nn.Module):
    """Predicts (shift, log-scale) for the transformed half; the tanh keeps the raw outputs bounded."""

    def __init__(self, d_in, d_out, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, 2 * d_out), nn.Tanh())

    def forward(self, x):
        return self.net(x)


class AffineCoupling(nn.Module):
    def __init__(self, dim, alpha=0.6, flip=False):
        super().__init__()
        self.half = dim // 2
        self.flip = flip
        self.alpha = alpha
        self.nn = CouplingNet(self.half, dim - self.half)

    def forward(self, x):
        xa, xb = x[:, :self.half], x[:, self.half:]
        if self.flip:
            xa, xb = xb, xa
        params = self.nn(xa)
        mu, log_scale = params.chunk(2, dim=1)
        scale = log_scale.mul_(0.5).tanh_().mul(self.alpha).add(1.0)
        yb = (xb + mu) * scale
        logdet = scale.abs().log().sum(dim=1)
        out = torch.cat([yb, xa], dim=1) if self.flip else torch.cat([xa, yb], dim=1)
        return out, logdet


class Flow(nn.Module):
    def __init__(self, dim=4, n_layers=4):
        super().__init__()
        self.layers = nn.ModuleList([AffineCoupling(dim, flip=(i % 2 == 1)) for i in range(n_layers)])

    def log_prob(self, x):
        logdet = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        base = -0.5 * (x ** 2).sum(dim=1) - 0.5 * x.shape[1] * torch.log(torch.tensor(2 * torch.pi))
        return base + logdet


def train(flow, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for (x,) in loader:
            loss = -flow.log_prob(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return flow


def main():
    torch.manual_seed(0)
    data = torch.randn(64, 4) @ torch.tensor([[1.0, 0.5, 0.0, 0.0], [0.0, 1.0, 0.3, 0.0],
                                               [0.0, 0.0, 1.0, 0.2], [0.0, 0.0, 0.0, 0.5]])
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True)
    flow = Flow()
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    train(flow, loader, optimizer)
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
