import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyDetector(nn.Module):
    def __init__(self, n_cls=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                                      nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.cls_head = nn.Linear(16, n_cls)
        self.box_head = nn.Linear(16, 4)

    def forward(self, x):
        f = self.backbone(x)
        return self.cls_head(f), self.box_head(f)


def decode_boxes(raw, img_size=16):
    cx, cy = torch.sigmoid(raw[:, 0]), torch.sigmoid(raw[:, 1])
    w, h = torch.sigmoid(raw[:, 2]), torch.sigmoid(raw[:, 3])
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).clamp(0, 1)
    boxes = torch.round(boxes * img_size) / img_size
    return boxes


def giou_loss(pred, target, eps=1e-6):
    lt, rb = torch.max(pred[:, :2], target[:, :2]), torch.min(pred[:, 2:], target[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_p, area_t = (pred[:, 2:] - pred[:, :2]).prod(-1), (target[:, 2:] - target[:, :2]).prod(-1)
    union = area_p + area_t - inter
    enc = (torch.max(pred[:, 2:], target[:, 2:]) - torch.min(pred[:, :2], target[:, :2])).prod(-1)
    return (1 - inter / (union + eps) + (enc - union) / (enc + eps)).mean()


def mean_iou(model, loader):
    ious = []
    with torch.no_grad():
        for img, label, box in loader:
            pred = decode_boxes(model(img)[1])
            lt, rb = torch.max(pred[:, :2], box[:, :2]), torch.min(pred[:, 2:], box[:, 2:])
            inter = (rb - lt).clamp(min=0).prod(-1)
            union = (pred[:, 2:] - pred[:, :2]).prod(-1) + (box[:, 2:] - box[:, :2]).prod(-1) - inter
            ious.append(inter / union.clamp(min=1e-6))
    return torch.cat(ious).mean().item()


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = TinyDetector()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(net, optimizer)
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(24, 2, generator=g) * 0.5
    gt_boxes = torch.cat([xy, xy + 0.3 + 0.2 * torch.rand(24, 2, generator=g)], 1)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(24, 3, 16, 16, generator=g),
                                                               torch.randint(0, 3, (24,), generator=g), gt_boxes), batch_size=8))
    b0 = net.box_head.weight.detach().clone()
    for epoch in range(2):
        for img, label, box in loader:
            logits, raw = model(img)
            loss = F.cross_entropy(logits, label) + 2.0 * giou_loss(decode_boxes(raw), box)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": net}, {"box_head_changed": not torch.equal(b0, net.box_head.weight)}

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
