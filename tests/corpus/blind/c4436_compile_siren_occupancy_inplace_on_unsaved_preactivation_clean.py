import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"hidden": 32, "layers": 3, "omega_0": 30.0, "lr": 1e-4, "epochs": 3, "bs": 128}


class SineLayer(nn.Module):
    def __init__(self, fan_in, fan_out, omega_0, first=False):
        super().__init__()
        self.omega_0 = omega_0
        self.linear = nn.Linear(fan_in, fan_out)
        bound = 1 / fan_in if first else math.sqrt(6 / fan_in) / omega_0
        nn.init.uniform_(self.linear.weight, -bound, bound)

    def forward(self, x):
        pre = self.linear(x)
        pre.mul_(self.omega_0)                  # scale the fresh pre-activation in place: Linear does not keep it
        return torch.sin(pre)


class OccupancySiren(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dims = [3] + [cfg["hidden"]] * cfg["layers"]
        self.net = nn.Sequential(*[SineLayer(a, b, cfg["omega_0"], first=i == 0)
                                   for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]))])
        self.out = nn.Linear(cfg["hidden"], 1)

    def forward(self, pts):
        h = self.net(pts)
        logits = self.out(h).squeeze(-1)
        logits.clamp_(-15.0, 15.0)              # numerically safe range for the BCE below
        return logits


def torus_occupancy(n, g):
    pts = torch.rand(n, 3, generator=g) * 2 - 1
    q = torch.stack([pts[:, :2].norm(dim=-1) - 0.5, pts[:, 2]], -1)
    return pts, (q.norm(dim=-1) < 0.25).float()


def train(compiled, optimizer, cfg):
    g = torch.Generator().manual_seed(0)
    for epoch in range(cfg["epochs"]):
        pts, occ = torus_occupancy(512, g)
        for i in range(0, len(pts), cfg["bs"]):
            loss = F.binary_cross_entropy_with_logits(compiled(pts[i:i + cfg["bs"]]), occ[i:i + cfg["bs"]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = OccupancySiren(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    compiled = torch.compile(model, backend="eager")
    w0 = model.net[0].linear.weight.detach().clone()
    train(compiled, optimizer, CFG)
    return {"model": model}, {"first_layer_changed": not torch.equal(w0, model.net[0].linear.weight)}

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
