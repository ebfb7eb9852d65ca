import math

import torch
import torch.nn as nn

CFG = {"dim": 2, "hidden": 32, "steps": 4, "t1": 1.0, "lr": 1e-3, "epochs": 2}


class ODEFunc(nn.Module):
    """Time-conditioned velocity field f(z, t) of a continuous normalizing flow."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, dim))

    def forward(self, t, z):
        return self.net(torch.cat([z, t.expand(z.shape[0], 1)], -1))


def hutchinson_divergence(f, z, eps):
    """Unbiased estimate of tr(df/dz) with a Rademacher probe; create_graph keeps it trainable."""
    vjp = torch.autograd.grad(f, z, eps, create_graph=True)[0]
    return (vjp * eps).sum(-1)


class FFJORD(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.func = ODEFunc(cfg["dim"], cfg["hidden"])

    def forward(self, x):
        z = x.requires_grad_(True) if not x.requires_grad else x
        delta_logp = torch.zeros(x.shape[0])
        eps = (torch.randint(0, 2, x.shape) * 2 - 1).float().detach()
        dt = self.cfg["t1"] / self.cfg["steps"]
        for k in range(self.cfg["steps"]):
            t = torch.tensor([[k * dt]])
            f = self.func(t, z)
            delta_logp = delta_logp - dt * hutchinson_divergence(f, z, eps)
            z = z + dt * f
        return z, delta_logp


def standard_normal_logprob(z):
    return -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


def checkerboard(n, g):
    x1 = torch.rand(n, generator=g) * 4 - 2
    x2 = torch.rand(n, generator=g) - torch.randint(0, 2, (n,), generator=g) * 2
    x2 = x2 + (torch.floor(x1) % 2)
    return torch.stack([x1, x2], -1)


def train(model, optimizer, data, epochs, bs=32):
    for epoch in range(epochs):
        for i in range(0, len(data), bs):
            x = data[i:i + bs].clone()
            z, delta_logp = model(x)
            nll = -(standard_normal_logprob(z) - delta_logp).mean()
            optimizer.zero_grad()
            nll.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = nn.DataParallel(FFJORD(CFG))
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    w0 = model.module.func.net[0].weight.detach().clone()
    train(model, optimizer, checkerboard(128, g), CFG["epochs"])
    return {"model": model.module}, {"velocity_field_changed": not torch.equal(w0, model.module.func.net[0].weight)}

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
