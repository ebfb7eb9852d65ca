import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Dequantization(nn.Module):
    """Maps discrete values in [0, quants) to continuous logit space, tracking the log-det-Jacobian."""

    def __init__(self, alpha=1e-5, quants=8):
        super().__init__()
        self.alpha, self.quants = alpha, quants

    def forward(self, z, ldj):
        z = z + torch.rand_like(z)
        z = z / self.quants
        ldj -= math.log(self.quants) * z.shape[1]
        z = z * (1 - self.alpha) + 0.5 * self.alpha
        ldj += math.log(1 - self.alpha) * z.shape[1]
        ldj += (-torch.log(z) - torch.log(1 - z)).sum(dim=1)
        z = torch.log(z) - torch.log(1 - z)
        return z, ldj


class MaskedAffine(nn.Module):
    def __init__(self, dim, mask):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(dim, 32), nn.Tanh(), nn.Linear(32, 2 * dim))
        self.scaling = nn.Parameter(torch.zeros(dim))

    def forward(self, z, ldj):
        s, t = self.net(z * self.mask).chunk(2, dim=1)
        s = torch.tanh(s / self.scaling.exp()) * self.scaling.exp()
        s, t = s * (1 - self.mask), t * (1 - self.mask)
        z = (z + t) * torch.exp(s)
        ldj += s.sum(dim=1)
        return z, ldj


class DiscreteFlow(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.deq = Dequantization()
        masks = [torch.tensor([1.0, 0.0] * (dim // 2)), torch.tensor([0.0, 1.0] * (dim // 2))]
        self.layers = nn.ModuleList([MaskedAffine(dim, masks[i % 2]) for i in range(4)])

    def nll(self, x):
        ldj = torch.zeros(x.shape[0])
        z, ldj = self.deq(x.float(), ldj)
        for layer in self.layers:
            z, ldj = layer(z, ldj)
        log_pz = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(dim=1)
        return -(log_pz + ldj).mean()


def train(flow, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for (x,) in loader:
            loss = flow.nll(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    base = torch.randint(0, 8, (64, 1))
    data = torch.cat([base, (base + torch.randint(0, 2, (64, 1))) % 8, torch.randint(0, 8, (64, 2))], dim=1)
    flow = DiscreteFlow()
    w0 = flow.layers[0].net[0].weight.detach().clone()
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    train(flow, DataLoader(TensorDataset(data), batch_size=16, shuffle=True), optimizer)
    return {"flow": flow}, {"flow_changed": not torch.equal(w0, flow.layers[0].net[0].weight)}

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
