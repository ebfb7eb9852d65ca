import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(c_in, c_out, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class TinyFCOS(nn.Module):
    """Anchor-free detector head on a small backbone: per-location class logits and box offsets."""

    def __init__(self, num_classes=3):
        super().__init__()
        self.backbone = nn.Sequential(conv_bn(3, 16, 2), conv_bn(16, 32, 2))
        self.cls_head = nn.Conv2d(32, num_classes, 3, padding=1)
        self.reg_head = nn.Conv2d(32, 4, 3, padding=1)

    def forward(self, img):
        feat = self.backbone(img)
        return self.cls_head(feat), F.relu(self.reg_head(feat))


def freeze_bn(module):
    """Small batches: keep BatchNorm statistics and affine parameters fixed."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
        for p in m.parameters():
            p.requires_grad = False


def detection_loss(cls_logits, boxes, cls_target, box_target):
    cls_loss = F.binary_cross_entropy_with_logits(cls_logits, cls_target)
    pos = cls_target.amax(1, keepdim=True)
    reg_loss = (F.smooth_l1_loss(boxes, box_target, reduction="none") * pos).mean()
    return cls_loss + reg_loss


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for img, cls_t, box_t in loader:
            cls_logits, boxes = model(img)
            loss = detection_loss(cls_logits, boxes, cls_t, box_t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    img = torch.randn(16, 3, 16, 16, generator=g)
    cls_t = (torch.rand(16, 3, 4, 4, generator=g) > 0.8).float()
    box_t = torch.rand(16, 4, 4, 4, generator=g) * 4
    loader = DataLoader(TensorDataset(img, cls_t, box_t), batch_size=4, shuffle=True, generator=g)
    model = TinyFCOS()
    freeze_bn(model.backbone)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    train(model, loader, optimizer)
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
