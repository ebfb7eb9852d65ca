import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class UniformQuantizer(nn.Module):
    """Symmetric 8-bit fake quantization with a calibrated scale (PTQ-style)."""

    def __init__(self, n_bits=8):
        super().__init__()
        self.register_buffer("scale", torch.tensor(1.0))
        self.qmax = 2 ** (n_bits - 1) - 1

    @torch.no_grad()
    def calibrate(self, x):
        self.scale.copy_(x.abs().max() / self.qmax)

    def forward(self, x):
        return torch.round(x / self.scale).clamp(-self.qmax - 1, self.qmax) * self.scale


class QuantDetector(nn.Module):
    def __init__(self, n_cls=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.cls_head = nn.Linear(32, n_cls)
        self.box_head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
        self.box_quant = UniformQuantizer()

    def forward(self, img):
        feat = self.backbone(img)
        return self.cls_head(feat), self.box_quant(self.box_head(feat))


def detection_loss(cls_logits, boxes, labels, gt_boxes):
    return F.cross_entropy(cls_logits, labels) + F.smooth_l1_loss(boxes, gt_boxes)


def main():
    set_seed(0)
    accelerator = Accelerator()
    imgs, labels = torch.randn(16, 3, 16, 16), torch.randint(0, 3, (16,))
    gt_boxes = torch.rand(16, 4)
    loader = DataLoader(TensorDataset(imgs, labels, gt_boxes), batch_size=8, shuffle=True)
    model = QuantDetector()
    with torch.no_grad():
        model.box_quant.calibrate(model.box_head(model.backbone(imgs)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    box0 = model.box_head[2].weight.detach().clone()
    for img, y, gt in loader:
        cls_logits, boxes = model(img)
        loss = detection_loss(cls_logits, boxes, y, gt)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return ({"model": model}, {"box_head_changed": not torch.equal(box0, model.box_head[2].weight)})

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
