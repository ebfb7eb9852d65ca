import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"img": 32, "stride": 8, "num_classes": 3, "anchor": (10.0, 10.0), "lr": 0.01, "epochs": 3, "w_box": 5.0}


class DecoupledHead(nn.Module):
    def __init__(self, c, num_classes):
        super().__init__()
        self.stem = nn.Conv2d(c, c, 1)
        self.cls_pred = nn.Conv2d(c, num_classes, 1)
        self.obj_pred = nn.Conv2d(c, 1, 1)
        self.reg_pred = nn.Conv2d(c, 4, 1)

    def forward(self, f):
        f = F.silu(self.stem(f))
        return self.cls_pred(f), self.obj_pred(f), self.reg_pred(f)


class TinyYOLO(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.SiLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(),
                                      nn.Conv2d(32, 32, 3, 2, 1), nn.SiLU())
        self.head = DecoupledHead(32, cfg["num_classes"])

    def forward(self, x):
        return self.head(self.backbone(x))


def decode_boxes(reg, stride, anchor):
    """(B,4,H,W) raw offsets -> pixel boxes (cx, cy, w, h) snapped to the integer label grid."""
    B, _, H, W = reg.shape
    gy, gx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    cx = (reg[:, 0].sigmoid() + gx) * stride
    cy = (reg[:, 1].sigmoid() + gy) * stride
    w = reg[:, 2].exp() * anchor[0]
    h = reg[:, 3].exp() * anchor[1]
    return torch.stack([cx, cy, w, h], dim=1).round()


def assign_targets(gt_boxes, gt_cls, H, W, stride):
    """Each ground-truth box is assigned to the grid cell containing its centre."""
    B = gt_boxes.size(0)
    obj = torch.zeros(B, H, W)
    gi = (gt_boxes[:, 0] / stride).long().clamp(0, W - 1)
    gj = (gt_boxes[:, 1] / stride).long().clamp(0, H - 1)
    obj[torch.arange(B), gj, gi] = 1.0
    return obj, gi, gj


def train_one_epoch(model, optimizer, images, gt_boxes, gt_cls, cfg):
    cls_out, obj_out, reg_out = model(images)
    H, W = obj_out.shape[-2:]
    obj_t, gi, gj = assign_targets(gt_boxes, gt_cls, H, W, cfg["stride"])
    b = torch.arange(images.size(0))
    boxes = decode_boxes(reg_out, cfg["stride"], cfg["anchor"])[b, :, gj, gi]
    loss_box = F.smooth_l1_loss(boxes / cfg["img"], gt_boxes / cfg["img"])
    loss_obj = F.binary_cross_entropy_with_logits(obj_out[:, 0], obj_t)
    loss_cls = F.cross_entropy(cls_out[b, :, gj, gi], gt_cls)
    loss = cfg["w_box"] * loss_box + loss_obj + loss_cls
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = TinyYOLO(CFG)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=0.9)
    images = torch.randn(8, 3, CFG["img"], CFG["img"])
    gt_boxes = torch.cat([torch.rand(8, 2) * 28 + 2, torch.rand(8, 2) * 8 + 6], dim=1)
    gt_cls = torch.randint(0, CFG["num_classes"], (8,))
    reg0 = model.head.reg_pred.weight.detach().clone()
    cls0 = model.head.cls_pred.weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(compiled, optimizer, images, gt_boxes, gt_cls, CFG)
    return {"model": model}, {
        "reg_head_changed": not torch.equal(reg0, model.head.reg_pred.weight),
        "cls_head_changed": not torch.equal(cls0, model.head.cls_pred.weight),
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
