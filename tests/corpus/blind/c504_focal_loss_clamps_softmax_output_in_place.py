import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AnchorHead(nn.Module):
    """RetinaNet-style classification subnet over a feature map: A anchors x C classes per location."""

    def __init__(self, in_ch=16, n_anchors=3, n_classes=4):
        super().__init__()
        self.tower = nn.Sequential(nn.Conv2d(in_ch, in_ch, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(in_ch, in_ch, 3, padding=1), nn.ReLU())
        self.cls = nn.Conv2d(in_ch, n_anchors * n_classes, 3, padding=1)
        self.n_classes = n_classes

    def forward(self, feat):
        logits = self.cls(self.tower(feat))
        b, _, h, w = logits.shape
        return logits.view(b, -1, self.n_classes, h, w).permute(0, 1, 3, 4, 2).reshape(b, -1, self.n_classes)


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU())
        self.head = AnchorHead()

    def forward(self, images):
        return self.head(self.backbone(images))


def focal_loss(logits, targets, alpha=0.25, gamma=2.0, eps=1e-4):
    probs = logits.softmax(dim=-1)
    probs.clamp_(eps, 1.0 - eps)
    p_t = probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (-alpha * (1 - p_t) ** gamma * p_t.log()).mean()


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for images, anchor_labels in loader:
            loss = focal_loss(model(images), anchor_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(16, 3, 16, 16, generator=g)
    anchor_labels = torch.randint(0, 4, (16, 3 * 8 * 8), generator=g)
    loader = DataLoader(TensorDataset(images, anchor_labels), batch_size=8, shuffle=True, generator=g)
    model = Detector()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
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
