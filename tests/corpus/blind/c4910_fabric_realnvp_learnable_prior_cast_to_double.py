import torch
import torch.nn as nn
from lightning.fabric import Fabric

CFG = {"dim": 4, "hidden": 32, "dtype": torch.float64, "lr": 1e-3}


class Coupling(nn.Module):
    def __init__(self, dim, hidden, flip):
        super().__init__()
        self.flip, self.half = flip, dim // 2
        self.net = nn.Sequential(nn.Linear(self.half, hidden), nn.Tanh(), nn.Linear(hidden, 2 * self.half))

    def forward(self, x):
        if self.flip:
            x = x.flip(-1)
        xa, xb = x[:, :self.half], x[:, self.half:]
        s, t = self.net(xa).chunk(2, -1)
        s = torch.tanh(s)
        y = torch.cat([xa, xb * s.exp() + t], -1)
        return (y.flip(-1) if self.flip else y), s.sum(-1)


def make_prior(dim, dtype):
    """Learnable diagonal Gaussian base distribution (mean and log-scale)."""
    loc = torch.zeros(dim, requires_grad=True).to(dtype)
    log_scale = torch.zeros(dim, requires_grad=True).to(dtype)
    return loc, log_scale


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    flow = nn.ModuleList(Coupling(CFG["dim"], CFG["hidden"], flip=i % 2 == 1) for i in range(4)).to(CFG["dtype"])
    loc, log_scale = make_prior(CFG["dim"], CFG["dtype"])
    optimizer = torch.optim.Adam([{"params": flow.parameters()}, {"params": [loc, log_scale], "lr": 1e-2}], lr=CFG["lr"])
    flow, optimizer = fabric.setup(flow, optimizer)
    x = torch.randn(64, CFG["dim"], dtype=CFG["dtype"]) * 0.5 + 1.0
    for _ in range(3):
        z, logdet = x, 0.0
        for layer in flow.module:
            z, ld = layer(z)
            logdet = logdet + ld
        log_pz = torch.distributions.Normal(loc, log_scale.exp()).log_prob(z).sum(-1)
        loss = -(log_pz + logdet).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"loc": loc}

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
