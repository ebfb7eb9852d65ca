import torch
import torch.nn as nn
from lightning.fabric import Fabric


class CircleSDF(nn.Module):
    def __init__(self, center=(0.0, 0.0), radius=1.0):
        super().__init__()
        self.center = nn.Parameter(torch.tensor(center))
        self.radius = nn.Parameter(torch.tensor(radius))

    def forward(self, pts):
        return (pts - self.center).norm(dim=-1) - self.radius


class DifferenceSDF(nn.Module):
    """base minus every object in `others` (smooth max of d_base and -d_other)."""

    def __init__(self, base, *others, k=0.05):
        super().__init__()
        self.base_obj = base
        self.others = list(others)
        self.k = k

    def forward(self, pts):
        d = self.base_obj(pts)
        for obj in self.others:
            cut = -obj(pts)
            h = torch.clamp(0.5 - 0.5 * (cut - d) / self.k, 0.0, 1.0)
            d = cut + (d - cut) * h + self.k * h * (1.0 - h)
        return d


def sample_target(n, g):
    pts = torch.rand(n, 2, generator=g) * 3.0 - 1.5
    outer = pts.norm(dim=-1) - 1.1
    inner = -((pts - torch.tensor([0.4, 0.1])).norm(dim=-1) - 0.5)
    return pts, torch.maximum(outer, inner)


def fit(fabric, shape, steps=60):
    optimizer = torch.optim.Adam(shape.parameters(), lr=5e-2)
    shape, optimizer = fabric.setup(shape, optimizer)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        pts, target = sample_target(256, g)
        loss = (shape(pts) - target).abs().mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return optimizer


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    base = CircleSDF(center=(0.0, 0.0), radius=1.0)
    hole = CircleSDF(center=(0.3, 0.0), radius=0.4)
    shape = DifferenceSDF(base, hole)
    r0 = hole.radius.detach().clone()
    optimizer = fit(fabric, shape)
    n_seen = sum(len(gr["params"]) for gr in optimizer.param_groups)
    return {"shape": shape, "hole": hole}, {
        "hole_radius_changed": not torch.equal(r0, hole.radius.detach()),
        "n_params_seen_by_optimizer": n_seen,
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
