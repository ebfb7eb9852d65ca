import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class UpBlock(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(cin + cskip, cout, 3, padding=1), nn.ELU())

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
        return self.conv(torch.cat([x, skip], 1))


class MonoDepthNet(nn.Module):
    def __init__(self, min_depth=0.1, max_depth=10.0):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ELU())
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, 2, 1), nn.ELU())
        self.enc3 = nn.Sequential(nn.Conv2d(16, 32, 3, 2, 1), nn.ELU())
        self.up2 = UpBlock(32, 16, 16)
        self.up1 = UpBlock(16, 8, 8)
        self.log_depth_head = nn.Conv2d(8, 1, 3, padding=1)
        self.min_depth, self.max_depth = min_depth, max_depth

    def predict_depth(self, feat):
        depth = torch.exp(self.log_depth_head(feat))
        depth.clamp_(self.min_depth, self.max_depth)
        return depth

    def forward(self, x):
        f1 = self.enc1(x)
        f2 = self.enc2(f1)
        f3 = self.enc3(f2)
        feat = self.up1(self.up2(f3, f2), f1)
        depth = self.predict_depth(feat)
        return F.interpolate(depth, size=x.shape[-2:], mode="bilinear", align_corners=False).squeeze(1)


def berhu_loss(pred, target, valid):
    diff = (pred - target)[valid].abs()
    c = 0.2 * diff.max().detach()
    return torch.where(diff <= c, diff, (diff ** 2 + c ** 2) / (2 * c + 1e-8)).mean()


def train_one_epoch(fabric, model, optimizer, loader):
    model.train()
    for images, depth in loader:
        valid = depth > 0
        loss = berhu_loss(model(images), depth, valid)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = MonoDepthNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fmodel, foptimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(12, 3, 32, 32, generator=g)
    depth = 0.5 + 4.0 * images[:, 1] * (torch.rand(12, 32, 32, generator=g) > 0.1)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(images, depth), batch_size=4, shuffle=True))
    for _ in range(2):
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
