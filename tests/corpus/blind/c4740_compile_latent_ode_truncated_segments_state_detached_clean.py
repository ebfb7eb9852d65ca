import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"latent": 6, "obs": 3, "hidden": 24, "dt": 0.05, "segment": 8, "n_segments": 3, "lr": 2e-3, "epochs": 2}


class ODEDynamics(nn.Module):
    def __init__(self, latent, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, latent))

    def forward(self, z):
        return self.net(z)


class SegmentedLatentODE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = nn.Linear(cfg["obs"], cfg["latent"])
        self.dynamics = ODEDynamics(cfg["latent"], cfg["hidden"])
        self.decoder = nn.Linear(cfg["latent"], cfg["obs"])
        self.cfg = cfg

    def rollout(self, z, steps):
        outs = []
        for _ in range(steps):
            k1 = self.dynamics(z)
            k2 = self.dynamics(z + self.cfg["dt"] * k1)
            z = z + self.cfg["dt"] / 2 * (k1 + k2)
            outs.append(self.decoder(z))
        return torch.stack(outs, 1), z


def sensor_series(cfg, n=8):
    total = cfg["segment"] * cfg["n_segments"]
    t = torch.arange(total + 1) * cfg["dt"]
    phase = torch.linspace(0, 1, n).unsqueeze(1)
    return torch.stack([torch.sin(3 * t + phase), torch.cos(2 * t + phase), torch.sin(t) * phase], dim=-1)


def train(model, step_fn, optimizer, series, cfg):
    for epoch in range(cfg["epochs"]):
        z = model.encoder(series[:, 0])
        for s in range(cfg["n_segments"]):
            target = series[:, 1 + s * cfg["segment"]: 1 + (s + 1) * cfg["segment"]]
            pred, z = step_fn(z, cfg["segment"])
            loss = F.mse_loss(pred, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            z = z.detach()


def main():
    torch.manual_seed(0)
    model = SegmentedLatentODE(CFG)
    step_fn = torch.compile(model.rollout, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    d0 = model.dynamics.net[0].weight.detach().clone()
    e0 = model.encoder.weight.detach().clone()
    train(model, step_fn, optimizer, sensor_series(CFG), CFG)
    return {"model": model}, {
        "dynamics_changed": not torch.equal(d0, model.dynamics.net[0].weight),
        "encoder_changed": not torch.equal(e0, model.encoder.weight),
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
