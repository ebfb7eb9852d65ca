import math

import torch
import torch.nn as nn


class PINN(nn.Module):
    """u(t) for the damped oscillator u'' + 2*zeta*w*u' + w^2*u = 0."""

    def __init__(self, hidden=32, depth=3):
        super().__init__()
        layers, width = [], 1
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, t):
        return self.net(t)


def derivatives(u, t):
    du = torch.autograd.grad(u.sum(), t, create_graph=True)[0]
    d2u = torch.autograd.grad(du.sum(), t, create_graph=True)[0]
    return du, d2u


def physics_residual(model, t, zeta=0.2, omega=2.0):
    u = model(t)
    du, d2u = derivatives(u, t)
    return d2u + 2 * zeta * omega * du + omega ** 2 * u


def initial_condition_loss(model, u0=1.0, v0=0.0):
    t0 = torch.zeros(1, 1, requires_grad=True)
    u = model(t0)
    du = torch.autograd.grad(u.sum(), t0, create_graph=True)[0]
    return (u - u0).pow(2).mean() + (du - v0).pow(2).mean()


def observation_loss(model, t_obs, u_obs):
    return (model(t_obs) - u_obs).pow(2).mean()


def collocation_points(n=32, t_min=0.0, t_max=3.0):
    return t_min + (t_max - t_min) * torch.rand(n, 1, requires_grad=True)


def train_pinn(model, optimizer, scheduler, steps=5, ic_weight=10.0, obs_weight=1.0):
    t_col = collocation_points()
    t_obs = torch.tensor([[0.5], [1.0], [1.5]])
    u_obs = exact_solution(t_obs) + 0.01 * torch.randn(3, 1)
    history = []
    for step in range(steps):
        residual = physics_residual(model, t_col)
        loss = residual.pow(2).mean() + ic_weight * initial_condition_loss(model)
        loss = loss + obs_weight * observation_loss(model, t_obs, u_obs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        history.append(loss.item())
    return history


def exact_solution(t, zeta=0.2, omega=2.0):
    wd = omega * math.sqrt(1 - zeta ** 2)
    return torch.exp(-zeta * omega * t) * (torch.cos(wd * t) + zeta * omega / wd * torch.sin(wd * t))


@torch.no_grad()
def relative_l2(model, n=50):
    t = torch.linspace(0, 3, n).unsqueeze(1)
    ref = exact_solution(t)
    return float((model(t) - ref).norm() / ref.norm())


def main():
    torch.manual_seed(0)
    model = PINN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.99)
    history = train_pinn(model, optimizer, scheduler)
    print(f"relative L2 error {relative_l2(model):.3f}")
    return {"pinn": model}, {"steps": len(history)}

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
