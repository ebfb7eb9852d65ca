import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def make_anchors(grid=4, size=0.3):
    c = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid
    cy, cx = torch.meshgrid(c, c, indexing="ij")
    ctr = torch.stack([cx.flatten(), cy.flatten()], dim=-1)
    return torch.cat([ctr - size / 2, ctr + size / 2], dim=-1)


def pairwise_iou(a, b):
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).clamp(min=0).prod(-1)
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-7)


def giou_loss(pred, target):
    iou = pairwise_iou(pred, target).diagonal()
    hull = (torch.max(pred[:, 2:], target[:, 2:]) - torch.min(pred[:, :2], target[:, :2])).prod(-1)
    union = ((pred[:, 2:] - pred[:, :2]).prod(-1) + (target[:, 2:] - target[:, :2]).prod(-1)) / (1 + iou)
    return (1 - iou + (hull - union) / hull).mean()


def decode(anchors, deltas):
    wh = anchors[:, 2:] - anchors[:, :2]
    ctr = (anchors[:, :2] + anchors[:, 2:]) / 2 + deltas[..., :2] * wh
    size = wh * torch.exp(deltas[..., 2:].clamp(max=2.0))
    return torch.cat([ctr - size / 2, ctr + size / 2], dim=-1)


class Head(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4))
        self.cls_head = nn.Conv2d(8, num_classes, 1)
        self.box_head = nn.Conv2d(8, 4, 1)

    def forward(self, images):
        f = self.stem(images)
        return self.cls_head(f).flatten(2).transpose(1, 2), self.box_head(f).flatten(2).transpose(1, 2)


class DynamicAssignLoss:
    """Assigns anchors by the IoU of their *predicted* boxes with the ground truth (OTA/TOOD style)."""

    def __init__(self, anchors, topk=3):
        self.anchors, self.topk = anchors, topk

    def __call__(self, cls_logits, deltas, gt_box, gt_label):
        pred_boxes = decode(self.anchors, deltas.detach())
        pos = pairwise_iou(pred_boxes, gt_box[None])[:, 0].topk(self.topk).indices
        target = torch.zeros_like(cls_logits)
        target[pos, gt_label] = 1.0
        cls_loss = F.binary_cross_entropy_with_logits(cls_logits, target)
        return cls_loss + giou_loss(pred_boxes[pos], gt_box.expand(self.topk, 4))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = Head()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(22)
    xy = torch.rand(24, 2, generator=g) * 0.6
    ds = TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.cat([xy, xy + 0.3], -1), torch.randint(0, 3, (24,), generator=g))
    loader = fabric.setup_dataloaders(DataLoader(ds, batch_size=6, shuffle=True, generator=g))
    criterion = DynamicAssignLoss(make_anchors())
    box0 = model.module.box_head.weight.detach().clone()
    for epoch in range(2):
        for images, boxes, labels in loader:
            optimizer.zero_grad()
            cls_logits, deltas = model(images)
            loss = sum(criterion(cls_logits[i], deltas[i], boxes[i], labels[i]) for i in range(images.size(0)))
            fabric.backward(loss / images.size(0))
            optimizer.step()
    return {"model": model.module}, {"box_head_changed": not torch.equal(box0, model.module.box_head.weight)}

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
