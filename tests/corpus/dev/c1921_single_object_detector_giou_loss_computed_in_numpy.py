import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.layers(x)


class SingleObjectDetector(nn.Module):
    """Localize-and-classify: one box (cx, cy, w, h in [0, 1]) and a class per image."""

    def __init__(self, n_classes=5):
        super().__init__()
        self.backbone = Backbone()
        self.cls_head = nn.Linear(16, n_classes)
        self.box_head = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, images):
        feats = self.backbone(images)
        return self.cls_head(feats), torch.sigmoid(self.box_head(feats))


def cxcywh_to_xyxy(b):
    cx, cy, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def giou_np(pred, gt):
    x1 = np.maximum(pred[:, 0], gt[:, 0]); y1 = np.maximum(pred[:, 1], gt[:, 1])
    x2 = np.minimum(pred[:, 2], gt[:, 2]); y2 = np.minimum(pred[:, 3], gt[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_p = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    union = area_p + area_g - inter
    cw = np.maximum(pred[:, 2], gt[:, 2]) - np.minimum(pred[:, 0], gt[:, 0])
    ch = np.maximum(pred[:, 3], gt[:, 3]) - np.minimum(pred[:, 1], gt[:, 1])
    hull = cw * ch
    return inter / union - (hull - union) / hull


def detection_loss(logits, boxes, labels, gt_boxes, box_weight=2.0):
    cls_loss = F.cross_entropy(logits, labels)
    giou = giou_np(cxcywh_to_xyxy(boxes.detach().cpu().numpy()), cxcywh_to_xyxy(gt_boxes.cpu().numpy()))
    box_loss = torch.as_tensor(1.0 - giou, dtype=torch.float32).mean()
    return cls_loss + box_weight * box_loss, box_loss.item()


def train(model, loader, optimizer, epochs=3):
    model.train()
    for _ in range(epochs):
        for images, labels, gt_boxes in loader:
            logits, boxes = model(images)
            loss, box_l = detection_loss(logits, boxes, labels, gt_boxes)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return box_l


def main():
    torch.manual_seed(0)
    images = torch.rand(24, 3, 16, 16)
    labels = torch.randint(0, 5, (24,))
    gt_boxes = torch.cat([torch.rand(24, 2) * 0.5 + 0.25, torch.rand(24, 2) * 0.3 + 0.2], dim=1)
    loader = DataLoader(TensorDataset(images, labels, gt_boxes), batch_size=8, shuffle=True)
    model = SingleObjectDetector()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    w0 = model.box_head[0].weight.detach().clone()
    train(model, loader, optimizer)
    return {"model": model}, {"box_head_changed": not torch.equal(w0, model.box_head[0].weight)}

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
