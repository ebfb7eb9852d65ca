import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dim": 6, "hidden": 32, "n_flows": 3, "min_scale": 1e-4, "lr": 1e-3, "epochs": 2}


class Invertible1x1(nn.Module):
    """Glow's learned channel mixing (here a dense invertible matrix on a flat vector)."""

    def __init__(self, dim):
        super().__init__()
        w = torch.linalg.qr(torch.randn(dim, dim))[0]
        self.weight = nn.Parameter(w)

    def forward(self, x):
        return x @ self.weight.t(), torch.slogdet(self.weight)[1].expand(x.shape[0])


class AffineCoupling(nn.Module):
    def __init__(self, dim, hidden, min_scale):
        super().__init__()
        self.half = dim // 2
        self.min_scale = min_scale
        self.net = nn.Sequential(nn.Linear(self.half, hidden), nn.ReLU(), nn.Linear(hidden, 2 * (dim - self.half)))

    def _scale_and_shift(self, xa):
        h = self.net(xa)
        log_s, t = h.chunk(2, dim=-1)
        scale = torch.sigmoid(log_s + 2.0)
        scale.clamp_(min=self.min_scale)
        return scale, t

    def forward(self, x):
        xa, xb = x[:, :self.half], x[:, self.half:]
        scale, t = self._scale_and_shift(xa)
        yb = (xb + t) * scale
        return torch.cat([xa, yb], dim=-1), torch.log(scale).sum(-1)


class Glow1D(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.steps = nn.ModuleList()
        for _ in range(cfg["n_flows"]):
            self.steps.append(Invertible1x1(cfg["dim"]))
            self.steps.append(AffineCoupling(cfg["dim"], cfg["hidden"], cfg["min_scale"]))

    def forward(self, x):
        logdet = torch.zeros(x.shape[0])
        for step in self.steps:
            x, ld = step(x)
            logdet = logdet + ld
        return x, logdet


def nll(z, logdet):
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    return -(log_pz + logdet).mean()


def two_moons_like(n=128, dim=6):
    g = torch.Generator().manual_seed(0)
    t = torch.rand(n, generator=g) * torch.pi
    base = torch.stack([torch.cos(t), torch.sin(t)], -1)
    return torch.cat([base, 0.1 * torch.randn(n, dim - 2, generator=g)], -1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    flow = Glow1D(CFG)
    optimizer = torch.optim.Adam(flow.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(flow, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(two_moons_like()), batch_size=32, shuffle=True))
    for _ in range(CFG["epochs"]):
        for (x,) in loader:
            z, logdet = model(x)
            loss = nll(z, logdet)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
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
