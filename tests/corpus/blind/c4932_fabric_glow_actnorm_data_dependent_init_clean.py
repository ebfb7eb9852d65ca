import torch
import torch.nn as nn
from lightning.fabric import Fabric


class ActNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @torch.no_grad()
    def initialize(self, x):
        self.loc.data.copy_(-x.mean(0))
        self.log_scale.data.copy_(-torch.log(x.std(0) + 1e-6))
        self.initialized.fill_(1)

    def forward(self, x):
        if self.initialized.item() == 0:
            self.initialize(x)
        return (x + self.loc) * self.log_scale.exp(), self.log_scale.sum().expand(x.shape[0])


class Coupling(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.half = dim // 2
        self.net = nn.Sequential(nn.Linear(self.half, 32), nn.Tanh(), nn.Linear(32, 2 * (dim - self.half)))

    def forward(self, x):
        xa, xb = x[:, :self.half], x[:, self.half:]
        s, t = self.net(xa).chunk(2, -1)
        s = torch.tanh(s)
        return torch.cat([xb * s.exp() + t, xa], -1), s.sum(-1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    flow = nn.ModuleList([ActNorm(4), Coupling(4), ActNorm(4), Coupling(4)])
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(flow, optimizer)
    data = torch.randn(64, 4) * torch.tensor([3.0, 0.5, 1.0, 2.0]) + 1.0
    loc_after_init = None
    for step in range(4):
        z, logdet = data, 0.0
        for layer in flow:
            z, ld = layer(z)
            logdet = logdet + ld
        if loc_after_init is None:
            loc_after_init = flow[0].loc.detach().clone()
        loss = -(torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) + logdet).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"flow": flow}, {"actnorm_trained_after_init": not torch.equal(loc_after_init, flow[0].loc)}

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
