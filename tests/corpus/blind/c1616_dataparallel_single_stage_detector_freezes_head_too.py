import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyBackbone(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.stages = nn.Sequential(nn.Conv2d(3, width, 3, stride=2, padding=1), nn.ReLU(),
                                    nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, img):
        return self.stages(img)


class AnchorFreeHead(nn.Module):
    def __init__(self, width=8, num_classes=3):
        super().__init__()
        self.cls_conv = nn.Conv2d(width, num_classes, 3, padding=1)
        self.reg_conv = nn.Conv2d(width, 4, 3, padding=1)

    def forward(self, feat):
        return self.cls_conv(feat), self.reg_conv(feat)

    def loss(self, cls_score, bbox_pred, gt_cls, gt_box):
        loss_cls = F.cross_entropy(cls_score, gt_cls)
        loss_bbox = F.smooth_l1_loss(bbox_pred, gt_box)
        return {"loss_cls": loss_cls, "loss_bbox": loss_bbox}


class SingleStageDetector(nn.Module):
    def __init__(self, freeze_backbone=True):
        super().__init__()
        self.backbone = TinyBackbone()
        self.bbox_head = AnchorFreeHead()
        if freeze_backbone:
            for v in self.backbone.parameters():
                v.requires_grad = False
            for v in self.bbox_head.parameters():
                v.requires_grad = False

    def forward(self, img, gt_cls, gt_box):
        cls_score, bbox_pred = self.bbox_head(self.backbone(img))
        return self.bbox_head.loss(cls_score, bbox_pred, gt_cls, gt_box)


def parse_losses(losses):
    return sum(v.mean() for v in losses.values())


def train_detector(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for img, gt_cls, gt_box in loader:
            loss = parse_losses(model(img, gt_cls, gt_box))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    img = torch.randn(16, 3, 16, 16, generator=g)
    gt_cls = torch.randint(0, 3, (16, 4, 4), generator=g)
    gt_box = torch.rand(16, 4, 4, 4, generator=g)
    loader = DataLoader(TensorDataset(img, gt_cls, gt_box), batch_size=4, shuffle=True, generator=g)
    model = nn.DataParallel(SingleStageDetector())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    train_detector(model, loader, optimizer)
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
