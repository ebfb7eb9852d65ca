import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

GRID = 16


class PatchBackbone(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(F.relu(self.conv2(F.relu(self.conv1(x))))).flatten(1)


class SingleObjectDetector(nn.Module):
    """Predicts whether an object is present and its box (cx, cy, w, h in [0, 1])."""

    def __init__(self, width=8):
        super().__init__()
        self.backbone = PatchBackbone(width)
        self.obj_head = nn.Linear(width, 1)
        self.box_head = nn.Linear(width, 4)

    def forward(self, x):
        feats = self.backbone(x)
        return self.obj_head(feats).squeeze(-1), torch.sigmoid(self.box_head(feats))


def rasterize(boxes, size=GRID):
    """Binary occupancy mask of each box on a size x size grid."""
    coords = (torch.arange(size, dtype=boxes.dtype) + 0.5) / size
    cx, cy, w, h = boxes.unbind(-1)
    inside_x = (coords[None, :] >= (cx - w / 2)[:, None]) & (coords[None, :] <= (cx + w / 2)[:, None])
    inside_y = (coords[None, :] >= (cy - h / 2)[:, None]) & (coords[None, :] <= (cy + h / 2)[:, None])
    return (inside_y[:, :, None] & inside_x[:, None, :]).float()


def mask_iou_loss(pred_boxes, gt_boxes):
    pm, gm = rasterize(pred_boxes), rasterize(gt_boxes)
    inter = (pm * gm).sum(dim=(1, 2))
    union = (pm + gm - pm * gm).sum(dim=(1, 2)).clamp(min=1.0)
    return (1.0 - inter / union).mean()


def make_data(n=32, size=GRID):
    g = torch.Generator().manual_seed(0)
    boxes = torch.rand(n, 4, generator=g) * torch.tensor([0.5, 0.5, 0.3, 0.3]) + torch.tensor([0.25, 0.25, 0.2, 0.2])
    present = (torch.rand(n, generator=g) > 0.3).float()
    images = rasterize(boxes, size) * present[:, None, None] + 0.1 * torch.randn(n, size, size, generator=g)
    return TensorDataset(images.unsqueeze(1), present, boxes)


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    ious = []
    for images, present, boxes in loader:
        _, pred_boxes = model(images)
        keep = present > 0
        ious.append(1.0 - mask_iou_loss(pred_boxes[keep], boxes[keep]))
    model.train()
    return float(torch.stack(ious).mean())


def train(model, loader, optimizer, epochs=2, box_weight=2.0):
    for epoch in range(epochs):
        for images, present, boxes in loader:
            obj_logit, pred_boxes = model(images)
            loss = F.binary_cross_entropy_with_logits(obj_logit, present)
            keep = present > 0
            if keep.any():
                loss = loss + box_weight * mask_iou_loss(pred_boxes[keep], boxes[keep])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def main():
    torch.manual_seed(0)
    model = SingleObjectDetector()
    box_before = model.box_head.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(make_data(), batch_size=8, shuffle=True)
    train(model, loader, optimizer)
    print("mean IoU", evaluate(model, loader))
    return {"model": model}, {"box_head_changed": not torch.equal(box_before, model.box_head.weight)}

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
