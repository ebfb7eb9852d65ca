import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Darknetish(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.LeakyReLU(0.1),
                                      nn.Conv2d(width, width, 3, stride=2, padding=1), nn.LeakyReLU(0.1))
        self.head = nn.Conv2d(width, 5, 1)

    def forward(self, x):
        return self.head(self.backbone(x))


def set_backbone_trainable(model, trainable):
    for name, p in model.named_parameters():
        if name.startswith("backbone."):
            p.requires_grad = trainable


def yolo_like_loss(pred, target):
    obj = F.binary_cross_entropy_with_logits(pred[:, 0], target[:, 0])
    return obj + F.mse_loss(pred[:, 1:], target[:, 1:])


def train(model, loader, optimizer, epochs=2, freeze_backbone_epochs=1):
    snapshots = [model.backbone[0].weight.detach().clone()]
    for epoch in range(epochs):
        set_backbone_trainable(model, epoch >= freeze_backbone_epochs)
        model.train()
        for img, target in loader:
            optimizer.zero_grad()
            loss = yolo_like_loss(model(img), target)
            loss.backward()
            optimizer.step()
        snapshots.append(model.backbone[0].weight.detach().clone())
    return snapshots


def main():
    torch.manual_seed(0)
    img = torch.rand(8, 3, 8, 8)
    target = torch.rand(8, 5, 4, 4)
    model = Darknetish()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    s = train(model, DataLoader(TensorDataset(img, target), batch_size=4), optimizer)
    facts = {"backbone_changed_epoch0": not torch.equal(s[0], s[1]),
             "backbone_changed_epoch1": not torch.equal(s[1], s[2])}
    return {"model": model}, facts

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
