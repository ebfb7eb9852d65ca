import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PointMass:
    """Simple 2-D double integrator with velocity damping and actuator limits."""

    def __init__(self, dt=0.1, damping=0.1, max_force=1.0):
        self.dt, self.damping, self.max_force = dt, damping, max_force

    def step(self, state, action):
        pos, vel = state[:, :2], state[:, 2:]
        force = np.clip(action, -self.max_force, self.max_force)
        vel = (1 - self.damping) * vel + self.dt * force
        pos = pos + self.dt * vel
        return np.concatenate([pos, vel], axis=1)


class Controller(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 2))

    def forward(self, state, goal):
        return self.net(torch.cat([state, goal], dim=-1))


def rollout(controller, env, start, goal, horizon=10):
    state = start.numpy()
    for _ in range(horizon):
        s = torch.as_tensor(state, dtype=torch.float32)
        action = controller(s, goal)
        state = env.step(state, action.detach().numpy())
    return torch.as_tensor(state, dtype=torch.float32)


def train(controller, env, optimizer, iters=5, batch=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(iters):
        start = torch.cat([torch.rand(batch, 2, generator=g) * 2 - 1, torch.zeros(batch, 2)], dim=1)
        goal = torch.rand(batch, 2, generator=g) * 2 - 1
        final = rollout(controller, env, start, goal)
        loss = F.mse_loss(final[:, :2], goal) + 0.1 * final[:, 2:].pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    controller = Controller()
    optimizer = torch.optim.Adam(controller.parameters(), lr=1e-3)
    train(controller, PointMass(), optimizer)
    return {"controller": controller}

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
