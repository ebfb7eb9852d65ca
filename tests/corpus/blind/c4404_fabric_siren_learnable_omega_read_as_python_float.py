import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"hidden": 32, "layers": 3, "omega_first": 30.0, "omega_hidden": 30.0, "lr": 1e-4, "lr_omega": 1e-2,
       "epochs": 3}


class AdaptiveSineLayer(nn.Module):
    """SIREN layer whose frequency omega_0 is learned (initialised at the usual 30)."""

    def __init__(self, fan_in, fan_out, omega_0, first=False):
        super().__init__()
        self.linear = nn.Linear(fan_in, fan_out)
        self.omega = nn.Parameter(torch.tensor(omega_0))
        bound = 1 / fan_in if first else math.sqrt(6 / fan_in) / omega_0
        nn.init.uniform_(self.linear.weight, -bound, bound)

    def frequency(self):
        return float(self.omega.clamp(min=1.0))

    def forward(self, x):
        return torch.sin(self.frequency() * self.linear(x))


class AudioSiren(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        layers = [AdaptiveSineLayer(1, cfg["hidden"], cfg["omega_first"], first=True)]
        layers += [AdaptiveSineLayer(cfg["hidden"], cfg["hidden"], cfg["omega_hidden"]) for _ in range(cfg["layers"] - 1)]
        self.layers = nn.Sequential(*layers)
        self.out = nn.Linear(cfg["hidden"], 1)

    def forward(self, t):
        return self.out(self.layers(t))


def build_optimizer(model, cfg):
    omegas = [p for n, p in model.named_parameters() if n.endswith("omega")]
    rest = [p for n, p in model.named_parameters() if not n.endswith("omega")]
    return torch.optim.Adam([{"params": rest, "lr": cfg["lr"]}, {"params": omegas, "lr": cfg["lr_omega"]}])


def audio_clip(n=256):
    t = torch.linspace(-1, 1, n)[:, None]
    wave = 0.6 * torch.sin(2 * math.pi * 9 * t) + 0.3 * torch.sin(2 * math.pi * 23 * t)
    return t, wave


def fit(fabric, model, optimizer, t, wave, epochs, bs=64):
    for epoch in range(epochs):
        perm = torch.randperm(len(t))
        for i in range(0, len(t), bs):
            idx = perm[i:i + bs]
            loss = F.mse_loss(model(t[idx]), wave[idx])
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = AudioSiren(CFG)
    optimizer = build_optimizer(model, CFG)
    model, optimizer = fabric.setup(model, optimizer)
    omega0 = model.module.layers[0].omega.detach().clone()
    lin0 = model.module.layers[0].linear.weight.detach().clone()
    t, wave = audio_clip()
    fit(fabric, model, optimizer, t, wave, CFG["epochs"])
    return {"model": model.module}, {
        "omega_changed": not torch.equal(omega0, model.module.layers[0].omega.detach()),
        "first_linear_changed": not torch.equal(lin0, model.module.layers[0].linear.weight),
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
