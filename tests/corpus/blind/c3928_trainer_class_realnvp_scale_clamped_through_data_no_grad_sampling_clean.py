import math
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden=32):
        super().__init__()
        self.register_buffer("mask", mask)
        d = mask.numel()
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 2 * d))
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        s, t = self.net(x * self.mask).chunk(2, -1)
        s = self.scale * torch.tanh(s) * (1 - self.mask)
        t = t * (1 - self.mask)
        return x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(-1)

    def inverse(self, y):
        s, t = self.net(y * self.mask).chunk(2, -1)
        s = self.scale * torch.tanh(s) * (1 - self.mask)
        return y * self.mask + (1 - self.mask) * (y - t * (1 - self.mask)) * torch.exp(-s)


class RealNVP(nn.Module):
    def __init__(self, d=2, n_layers=4):
        super().__init__()
        masks = [torch.tensor([1.0, 0.0]) if i % 2 == 0 else torch.tensor([0.0, 1.0]) for i in range(n_layers)]
        self.layers = nn.ModuleList(AffineCoupling(m) for m in masks)

    def log_prob(self, x):
        logdet = 0.0
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return -0.5 * (x.pow(2).sum(-1) + x.shape[-1] * math.log(2 * math.pi)) + logdet

    @torch.no_grad()
    def sample(self, n):
        z = torch.randn(n, 2)
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


class FlowTrainer:
    def __init__(self, flow, lr=3e-3, max_scale=2.0):
        self.flow, self.max_scale = flow, max_scale
        self.optimizer = torch.optim.Adam(flow.parameters(), lr=lr)

    def clamp_scales(self):
        for layer in self.flow.layers:
            layer.scale.data.clamp_(0.0, self.max_scale)

    def fit(self, loader, epochs=2):
        for _ in range(epochs):
            for (x,) in loader:
                loss = -self.flow.log_prob(x).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.clamp_scales()
        return self.flow.sample(64)


def two_moons(n=128):
    t = torch.rand(n) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], -1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], -1)
    return torch.cat([upper, lower])[torch.randperm(2 * n)] + 0.05 * torch.randn(2 * n, 2)


def main():
    torch.manual_seed(0)
    flow = RealNVP()
    net0 = flow.layers[0].net[0].weight.detach().clone()
    scale0 = flow.layers[1].scale.detach().clone()
    samples = FlowTrainer(flow).fit(DataLoader(TensorDataset(two_moons()), batch_size=32, shuffle=True))
    return {"flow": flow}, {
        "coupling_net_changed": not torch.equal(net0, flow.layers[0].net[0].weight),
        "scale_changed": not torch.equal(scale0, flow.layers[1].scale),
        "samples_finite": bool(torch.isfinite(samples).all()),
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
