import torch
import torch.nn as nn
import torch.nn.functional as F


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.stage = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, x):
        c2 = self.stem(x)
        return c2, self.stage(c2)


class AdaptiveTaskSelector(nn.Module):
    """The new block added to the pretrained neck (channel attention over the fused map)."""

    def __init__(self, ch):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(ch, ch // 2), nn.ReLU(), nn.Linear(ch // 2, ch))

    def forward(self, x):
        w = torch.sigmoid(self.fc(x.mean(dim=(2, 3))))
        return x * w[:, :, None, None]


class FPNNeck(nn.Module):
    def __init__(self):
        super().__init__()
        self.lateral2 = nn.Conv2d(8, 8, 1)
        self.lateral3 = nn.Conv2d(16, 8, 1)
        self.ats = AdaptiveTaskSelector(8)

    def forward(self, c2, c3):
        p3 = self.lateral3(c3)
        p2 = self.lateral2(c2) + F.interpolate(p3, size=c2.shape[-2:], mode="nearest")
        return self.ats(p2)


class DenseHead(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.cls = nn.Conv2d(8, num_classes, 3, padding=1)
        self.box = nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, p):
        return self.cls(p), self.box(p)


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.neck = FPNNeck()
        self.bbox_head = DenseHead()

    def forward(self, images, cls_target, box_target):
        c2, c3 = self.backbone(images)
        cls_logits, box_pred = self.bbox_head(self.neck(c2, c3))
        return F.cross_entropy(cls_logits, cls_target) + F.smooth_l1_loss(box_pred, box_target)


def freeze_pretrained_parts(detector):
    """Keep the pretrained detector fixed and only train the newly added ATS block of the neck."""
    for v in detector.backbone.parameters():
        v.requires_grad = False
    for v in detector.bbox_head.parameters():
        v.requires_grad = False
    for name, para in detector.neck.named_parameters():
        if "ATS" not in name:
            para.requires_grad = False


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Detector())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    freeze_pretrained_parts(model.module)
    images = torch.randn(8, 3, 16, 16)
    cls_target = torch.randint(0, 3, (8, 8, 8))
    box_target = torch.randn(8, 4, 8, 8)
    for step in range(3):
        sl = slice(4 * (step % 2), 4 * (step % 2) + 4)
        loss = model(images[sl], cls_target[sl], box_target[sl]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"ats": model.module.neck.ats}

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
