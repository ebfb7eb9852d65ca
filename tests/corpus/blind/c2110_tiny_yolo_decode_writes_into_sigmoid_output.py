import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyYOLO(nn.Module):
    def __init__(self, n_anchors=2, n_cls=3):
        super().__init__()
        self.na, self.no = n_anchors, 5 + n_cls
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.SiLU(),
                                      nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.SiLU())
        self.detect = nn.Conv2d(16, self.na * self.no, 1)
        self.register_buffer("anchors", torch.tensor([[1.0, 1.5], [2.0, 1.0]]))

    def forward(self, x):
        p = self.detect(self.backbone(x))
        b, _, h, w = p.shape
        return p.view(b, self.na, self.no, h, w).permute(0, 1, 3, 4, 2)


def decode(p, anchors, stride=4):
    """YOLOv5-style box decoding, in place to avoid extra copies."""
    b, na, h, w, _ = p.shape
    gy, gx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    grid = torch.stack([gx, gy], dim=-1).float()
    y = p.sigmoid()
    y[..., 0:2] = (y[..., 0:2] * 2 - 0.5 + grid) * stride
    y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * anchors.view(1, na, 1, 1, 2) * stride
    return y


def box_loss(pred_boxes, target_boxes):
    return F.l1_loss(pred_boxes, target_boxes)


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for images, targets in loader:
            y = decode(model(images), model.anchors)
            loss = box_loss(y[..., :4], targets) + F.binary_cross_entropy(y[..., 4], (targets[..., 2] > 4).float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    images = torch.randn(8, 3, 16, 16)
    targets = torch.rand(8, 2, 4, 4, 4) * 16
    model = TinyYOLO()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.937, nesterov=True)
    train(model, DataLoader(TensorDataset(images, targets), batch_size=4), optimizer)
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
