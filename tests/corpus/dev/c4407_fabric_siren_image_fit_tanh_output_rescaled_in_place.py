import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"hidden": 32, "layers": 3, "first_omega_0": 30.0, "hidden_omega_0": 30.0, "lr": 1e-4, "steps_per_epoch": 4}


class SineLayer(nn.Module):
    def __init__(self, in_features, out_features, omega_0, is_first=False):
        super().__init__()
        self.omega_0, self.is_first = omega_0, is_first
        self.linear = nn.Linear(in_features, out_features)
        self.init_weights(in_features)

    def init_weights(self, fan_in):
        with torch.no_grad():
            bound = 1 / fan_in if self.is_first else math.sqrt(6 / fan_in) / self.omega_0
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x):
        return torch.sin(self.omega_0 * self.linear(x))


class Siren(nn.Module):
    def __init__(self, cfg, in_features=2, out_features=3):
        super().__init__()
        layers = [SineLayer(in_features, cfg["hidden"], cfg["first_omega_0"], is_first=True)]
        for _ in range(cfg["layers"] - 1):
            layers.append(SineLayer(cfg["hidden"], cfg["hidden"], cfg["hidden_omega_0"]))
        self.net = nn.Sequential(*layers)
        self.out = nn.Linear(cfg["hidden"], out_features)
        with torch.no_grad():
            bound = math.sqrt(6 / cfg["hidden"]) / cfg["hidden_omega_0"]
            self.out.weight.uniform_(-bound, bound)

    def forward(self, coords):
        rgb = torch.tanh(self.out(self.net(coords)))
        rgb.mul_(0.5).add_(0.5)          # map [-1, 1] to the [0, 1] pixel range
        return rgb


def image_grid(h=16, w=16):
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    coords = torch.stack([xs, ys], dim=-1).reshape(-1, 2)
    img = torch.stack([0.5 + 0.5 * torch.sin(3 * xs), 0.5 + 0.5 * torch.cos(2 * ys),
                       0.5 + 0.25 * (xs * ys)], dim=-1).reshape(-1, 3)
    return coords, img


def psnr(pred, target):
    return (10 * torch.log10(1.0 / F.mse_loss(pred, target))).item()


def fit(fabric, model, optimizer, loader, epochs):
    history = []
    for epoch in range(epochs):
        for coords, pixels in loader:
            pred = model(coords)
            loss = F.mse_loss(pred, pixels)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        history.append(psnr(pred.detach(), pixels))
    return history


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    coords, img = image_grid()
    loader = DataLoader(TensorDataset(coords, img), batch_size=64, shuffle=True)
    model = Siren(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(loader)
    first0 = model.module.net[0].linear.weight.detach().clone()
    fit(fabric, model, optimizer, loader, epochs=2)
    return {"model": model.module}, {
        "first_layer_changed": not torch.equal(first0, model.module.net[0].linear.weight),
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
