import math

import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ActNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return (x + self.loc) * torch.exp(self.log_scale), self.log_scale.sum().expand(x.size(0))


class AffineCoupling(nn.Module):
    """Glow coupling: the scale goes through sigmoid(log_s + 2) so it starts close to 1."""

    def __init__(self, dim, hidden=32, min_scale=1e-3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim // 2, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.min_scale = min_scale

    def scale_and_shift(self, x_a):
        h = self.net(x_a)
        log_s, t = h.chunk(2, dim=-1)
        scale = torch.sigmoid(log_s + 2.0)
        scale.clamp_(min=self.min_scale)
        return scale, t

    def forward(self, x):
        x_a, x_b = x.chunk(2, dim=-1)
        scale, t = self.scale_and_shift(x_a)
        y_b = (x_b + t) * scale
        return torch.cat([x_a, y_b], dim=-1), torch.log(scale).sum(-1)


class Glow1D(nn.Module):
    def __init__(self, dim, n_steps=3):
        super().__init__()
        self.norms = nn.ModuleList([ActNorm(dim) for _ in range(n_steps)])
        self.couplings = nn.ModuleList([AffineCoupling(dim) for _ in range(n_steps)])
        self.register_buffer("perm", torch.arange(dim - 1, -1, -1))

    def forward(self, x):
        logdet = torch.zeros(x.size(0))
        for norm, coupling in zip(self.norms, self.couplings):
            x, ld = norm(x)
            logdet = logdet + ld
            x, ld = coupling(x)
            logdet = logdet + ld
            x = x[:, self.perm]
        return x, logdet


def nll_bits_per_dim(z, logdet):
    d = z.size(1)
    log_pz = -0.5 * (z ** 2).sum(-1) - 0.5 * d * math.log(2 * math.pi)
    return (-(log_pz + logdet) / (d * math.log(2))).mean()


def train(fabric, model, optimizer, loader, epochs):
    for epoch in range(epochs):
        for (x,) in loader:
            z, logdet = model(x)
            loss = nll_bits_per_dim(z, logdet)
            optimizer.zero_grad()
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=5.0)
            optimizer.step()
        fabric.print(f"epoch {epoch} bpd {loss.item():.3f}")


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(64, 6, generator=g) @ torch.randn(6, 6, generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(data), batch_size=16, shuffle=True, generator=g))
    model = Glow1D(dim=6)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    train(fabric, model, optimizer, loader, epochs=2)
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
