import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"obs_dim": 2, "latent": 8, "hidden": 32, "dt": 0.1, "steps": 10, "lr": 3e-3, "iters": 6, "tol": 1e-2}


class ODEFunc(nn.Module):
    def __init__(self, latent, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent + 1, hidden), nn.Tanh(), nn.Linear(hidden, latent))

    def forward(self, t, z):
        return self.net(torch.cat([z, t.expand(z.size(0), 1)], dim=-1))


def rk4_step(func, t, z, dt):
    """Classic RK4 plus an embedded Euler error estimate used to flag stiff segments."""
    k1 = func(t, z)
    k2 = func(t + dt / 2, z + dt / 2 * k1)
    k3 = func(t + dt / 2, z + dt / 2 * k2)
    k4 = func(t + dt, z + dt * k3)
    k1, k2, k3, k4 = [k.detach() for k in (k1, k2, k3, k4)]
    err = (dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4) - dt * k1).abs().max()
    return z + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), err


class LatentODE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = nn.Linear(cfg["obs_dim"], cfg["latent"])
        self.func = ODEFunc(cfg["latent"], cfg["hidden"])
        self.decoder = nn.Linear(cfg["latent"], cfg["obs_dim"])
        self.cfg = cfg

    def forward(self, x0):
        z = self.encoder(x0)
        t = torch.zeros(1)
        outs, stiff = [], 0
        for _ in range(self.cfg["steps"]):
            z, err = rk4_step(self.func, t, z, self.cfg["dt"])
            stiff += int(err > self.cfg["tol"])
            t = t + self.cfg["dt"]
            outs.append(self.decoder(z))
        return torch.stack(outs, dim=1), stiff


def spirals(cfg, n=16):
    t = torch.arange(1, cfg["steps"] + 1) * cfg["dt"]
    r = torch.linspace(0.5, 1.5, n).unsqueeze(1)
    traj = torch.stack([r * torch.cos(2 * t), r * torch.sin(2 * t)], dim=-1)
    x0 = torch.cat([r, torch.zeros_like(r)], dim=1)
    return x0, traj


def train(fabric, model, optimizer, data, cfg):
    x0, traj = data
    for it in range(cfg["iters"]):
        pred, _ = model(x0)
        loss = F.mse_loss(pred, traj)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = LatentODE(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    f0 = model.module.func.net[0].weight.detach().clone()
    e0 = model.module.encoder.weight.detach().clone()
    train(fabric, model, optimizer, spirals(CFG), CFG)
    return {"model": model.module}, {
        "odefunc_changed": not torch.equal(f0, model.module.func.net[0].weight),
        "encoder_changed": not torch.equal(e0, model.module.encoder.weight),
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
