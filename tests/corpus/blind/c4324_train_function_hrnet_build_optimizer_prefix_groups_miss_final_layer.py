import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CONFIG = {
    "lr": 1e-3,
    "epochs": 2,
    "param_groups": {"stem": 0.5, "stage2": 1.0, "stage3": 1.0, "fuse": 1.0},
    "weight_decay": 1e-4,
}


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class PoseHRNet(nn.Module):
    def __init__(self, n_joints=5, c=12):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, c, 2), conv_bn(c, c))
        self.stage2 = nn.ModuleDict({"hi": conv_bn(c, c), "lo": conv_bn(c, 2 * c, 2)})
        self.stage3 = nn.ModuleDict({"hi": conv_bn(c, c), "lo": conv_bn(2 * c, 2 * c)})
        self.fuse = nn.Conv2d(2 * c, c, 1)
        self.final_layer = nn.Conv2d(c, n_joints, 1)

    def forward(self, x):
        x = self.stem(x)
        hi, lo = self.stage2["hi"](x), self.stage2["lo"](x)
        hi, lo = self.stage3["hi"](hi), self.stage3["lo"](lo)
        hi = hi + F.interpolate(self.fuse(lo), size=hi.shape[-2:], mode="bilinear", align_corners=False)
        return self.final_layer(hi)


def build_optimizer(model, cfg):
    groups = []
    for prefix, lr_mult in cfg["param_groups"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix + ".")]
        groups.append({"params": params, "lr": cfg["lr"] * lr_mult, "name": prefix})
    return torch.optim.AdamW(groups, lr=cfg["lr"], weight_decay=cfg["weight_decay"])


def target_heatmaps(coords, size, sigma=1.5):
    ys, xs = torch.arange(size).float().view(1, 1, size, 1), torch.arange(size).float().view(1, 1, 1, size)
    return torch.exp(-((xs - coords[..., 0, None, None]) ** 2 + (ys - coords[..., 1, None, None]) ** 2) / (2 * sigma ** 2))


def train_one_epoch(model, loader, optimizer, scheduler):
    model.train()
    for images, heatmaps in loader:
        loss = F.mse_loss(model(images), heatmaps) * 1000
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()


def main():
    torch.manual_seed(0)
    model = PoseHRNet()
    optimizer = build_optimizer(model, CONFIG)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[1], gamma=0.1)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(16, 3, 32, 32, generator=g)
    heatmaps = target_heatmaps(torch.rand(16, 5, 2, generator=g) * 15, 16)
    loader = DataLoader(TensorDataset(images, heatmaps), batch_size=8, shuffle=True, generator=g)
    final0 = model.final_layer.weight.detach().clone()
    stem0 = model.stem[0][0].weight.detach().clone()
    for _ in range(CONFIG["epochs"]):
        train_one_epoch(model, loader, optimizer, scheduler)
    return {"model": model}, {
        "final_layer_changed": not torch.equal(final0, model.final_layer.weight),
        "stem_changed": not torch.equal(stem0, model.stem[0][0].weight),
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
