import torch
import torch.nn as nn


class ResidualDynamics(nn.Module):
    """Learns what the analytic pendulum model misses."""

    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, state, u):
        return self.net(torch.cat([state, u], dim=-1))


def pendulum_step(state, u, g, m, l, dt=0.05):
    th, thdot = state[..., 0:1], state[..., 1:2]
    newthdot = thdot + dt * (-3.0 * g / (2.0 * l) * torch.sin(th + torch.pi) + 3.0 / (m * l ** 2) * u)
    newth = th + dt * newthdot
    return torch.cat([newth, newthdot], dim=-1)


class SysIdExperiment:
    def __init__(self, learn_dx=True, horizon=10):
        torch.manual_seed(0)
        raw = [torch.tensor(v, requires_grad=True) for v in (8.0, 0.8, 0.9)]  # initial guesses
        self.env_params = [p.to(dtype=torch.float64) for p in raw]
        self.extra_dx = ResidualDynamics().double() if learn_dx else None
        self.horizon = horizon
        self.true_params = (10.0, 1.0, 1.0)

    def rollout(self, params, x0, us):
        xs, x = [], x0
        for t in range(self.horizon):
            x = pendulum_step(x, us[:, t], *params)
            if self.extra_dx is not None and params is self.env_params:
                x = x + 0.01 * self.extra_dx(x, us[:, t])
            xs.append(x)
        return torch.stack(xs, dim=1)

    def run(self, iters=30):
        params = [{"params": self.env_params, "lr": 1e-2, "alpha": 0.5}]
        if self.extra_dx is not None:
            params.append({"params": self.extra_dx.parameters(), "lr": 1e-4})
        opt = torch.optim.RMSprop(params)
        g = torch.Generator().manual_seed(1)
        for _ in range(iters):
            x0 = torch.randn(16, 2, generator=g, dtype=torch.float64)
            us = torch.randn(16, self.horizon, 1, generator=g, dtype=torch.float64)
            with torch.no_grad():
                target = self.rollout([torch.tensor(v, dtype=torch.float64) for v in self.true_params], x0, us)
            loss = (self.rollout(self.env_params, x0, us) - target).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()


def main():
    exp = SysIdExperiment()
    exp.run()
    return {"extra_dx": exp.extra_dx}, {"gravity_is_leaf": exp.env_params[0].is_leaf}

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
