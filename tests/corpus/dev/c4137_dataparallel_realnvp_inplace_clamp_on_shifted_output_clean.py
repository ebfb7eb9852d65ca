import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class AffineCouplingStable(nn.Module):
    """RealNVP coupling with exp scale; the transformed half is clamped for numerical safety."""

    def __init__(self, dim, hidden=32, flip=False, bound=1e3):
        super().__init__()
        self.flip = flip
        self.bound = bound
        self.param_map = nn.Sequential(nn.Linear(dim // 2, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        nn.init.zeros_(self.param_map[-1].weight)
        nn.init.zeros_(self.param_map[-1].bias)

    def forward(self, z):
        z1, z2 = z.chunk(2, dim=-1)
        if self.flip:
            z1, z2 = z2, z1
        shift, scale_ = self.param_map(z1).chunk(2, dim=-1)
        scale_ = torch.tanh(scale_)
        z2 = z2 * torch.exp(scale_) + shift
        z2.clamp_(min=-self.bound, max=self.bound)
        out = torch.cat([z2, z1], -1) if self.flip else torch.cat([z1, z2], -1)
        return out, scale_.sum(-1)


class RealNVP(nn.Module):
    def __init__(self, dim=4, n_layers=4):
        super().__init__()
        self.layers = nn.ModuleList([AffineCouplingStable(dim, flip=bool(i % 2)) for i in range(n_layers)])

    def forward(self, x):
        log_det = torch.zeros(x.size(0), device=x.device)
        for layer in self.layers:
            x, ld = layer(x)
            log_det += ld
        return x, log_det


def nll(z, log_det):
    log_pz = -0.5 * (z ** 2).sum(-1) - 0.5 * z.size(1) * math.log(2 * math.pi)
    return -(log_pz + log_det).mean()


def train_one_epoch(model, loader, optimizer):
    model.train()
    for (x,) in loader:
        z, log_det = model(x)
        loss = nll(z, log_det)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def two_moons(n=64):
    g = torch.Generator().manual_seed(0)
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.rand(n, generator=g) > 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    data = torch.stack([x, y, 0.5 * x * y, x - y], -1) + 0.05 * torch.randn(n, 4, generator=g)
    return DataLoader(TensorDataset(data), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(RealNVP())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.module.layers[0].param_map[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, two_moons(), optimizer)
    return {"model": model.module}, {"coupling_changed": not torch.equal(w0, model.module.layers[0].param_map[0].weight)}

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
