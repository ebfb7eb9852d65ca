import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class GatedFusion(nn.Module):
    """Fuses the high- and low-resolution branches with a learned spatial gate."""

    def __init__(self, c_hi, c_lo, gate_scale):
        super().__init__()
        self.lo_to_hi = nn.Conv2d(c_lo, c_hi, 1)
        self.gate_conv = nn.Conv2d(2 * c_hi, 1, 3, padding=1)
        self.gate_scale = gate_scale

    def forward(self, hi, lo):
        lo_up = F.interpolate(self.lo_to_hi(lo), size=hi.shape[-2:], mode="bilinear", align_corners=False)
        gate = torch.sigmoid(self.gate_conv(torch.cat([hi, lo_up], 1)))
        gate.mul_(self.gate_scale)
        return hi * gate + lo_up * (1 - gate)


class TinyHRNet(nn.Module):
    def __init__(self, n_joints, width=16, gate_scale=0.9):
        super().__init__()
        self.stem = nn.Sequential(conv_bn_relu(3, width, 2), conv_bn_relu(width, width))
        self.hi_branch = nn.Sequential(conv_bn_relu(width, width), conv_bn_relu(width, width))
        self.lo_branch = nn.Sequential(conv_bn_relu(width, 2 * width, 2), conv_bn_relu(2 * width, 2 * width))
        self.fuse = GatedFusion(width, 2 * width, gate_scale)
        self.final_layer = nn.Conv2d(width, n_joints, 1)

    def forward(self, x):
        x = self.stem(x)
        hi, lo = self.hi_branch(x), self.lo_branch(x)
        return self.final_layer(self.fuse(hi, lo))


def gaussian_heatmaps(coords, size, sigma=1.5):
    ys = torch.arange(size).view(1, 1, size, 1).float()
    xs = torch.arange(size).view(1, 1, 1, size).float()
    cx, cy = coords[..., 0, None, None], coords[..., 1, None, None]
    return torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma ** 2))


def make_loader(n_joints, n=24, img=32):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, img, img, generator=g)
    coords = torch.rand(n, n_joints, 2, generator=g) * (img // 2 - 1)
    targets = gaussian_heatmaps(coords, img // 2)
    return DataLoader(TensorDataset(images, targets), batch_size=8, shuffle=True, generator=g)


def train_one_epoch(fabric, model, optimizer, loader):
    model.train()
    for images, targets in loader:
        heatmaps = model(images)
        loss = F.mse_loss(heatmaps, targets)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        fabric.log("train/loss", loss.item())


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    cfg = {"n_joints": 5, "lr": 1e-3, "epochs": 2}
    model = TinyHRNet(cfg["n_joints"])
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    fmodel, foptimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader(cfg["n_joints"]))
    for _ in range(cfg["epochs"]):
        train_one_epoch(fabric, fmodel, foptimizer, loader)
    return {"model": model}

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
