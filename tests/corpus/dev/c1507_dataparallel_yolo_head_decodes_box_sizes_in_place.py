import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.1),
        )

    def forward(self, x):
        return self.features(x)


class YoloHead(nn.Module):
    def __init__(self, in_ch=16, anchors=((1.0, 1.5), (2.0, 1.0)), n_classes=3):
        super().__init__()
        self.na, self.nc = len(anchors), n_classes
        self.pred = nn.Conv2d(in_ch, self.na * (5 + n_classes), 1)
        self.register_buffer("anchor_wh", torch.tensor(anchors).view(1, self.na, 1, 1, 2))

    def forward(self, feats):
        b, _, s, _ = feats.shape
        raw = self.pred(feats).view(b, self.na, 5 + self.nc, s, s).permute(0, 1, 3, 4, 2)
        out = torch.sigmoid(raw)
        out[..., 2:4] = torch.exp(raw[..., 2:4]) * self.anchor_wh
        return out


class TinyYolo(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = TinyBackbone()
        self.head = YoloHead()

    def forward(self, images):
        return self.head(self.backbone(images))


def yolo_loss(pred, target):
    obj = target[..., 4] == 1
    box = F.mse_loss(pred[..., 0:4][obj], target[..., 0:4][obj])
    objectness = F.binary_cross_entropy(pred[..., 4], target[..., 4])
    cls = F.binary_cross_entropy(pred[..., 5:][obj], target[..., 5:][obj])
    return 5.0 * box + objectness + cls


def train_one_epoch(model, loader, optimizer):
    model.train()
    for images, targets in loader:
        optimizer.zero_grad()
        loss = yolo_loss(model(images), targets)
        loss.backward()
        optimizer.step()


def make_loader(n=16):
    g = torch.Generator().manual_seed(7)
    images = torch.randn(n, 3, 16, 16, generator=g)
    targets = torch.zeros(n, 2, 4, 4, 8)
    targets[..., 4] = (torch.rand(n, 2, 4, 4, generator=g) < 0.2).float()
    targets[..., 0:2] = torch.rand(n, 2, 4, 4, 2, generator=g)
    targets[..., 2:4] = torch.rand(n, 2, 4, 4, 2, generator=g) * 2 + 0.5
    targets[..., 5] = 1.0
    return DataLoader(TensorDataset(images, targets), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(TinyYolo())
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    train_one_epoch(model, make_loader(), optimizer)
    return {"model": model.module}

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
