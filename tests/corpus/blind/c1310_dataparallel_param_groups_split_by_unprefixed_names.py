import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SegmentationNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.decode_head = nn.Conv2d(8, n_classes, 1)

    def forward(self, x):
        return self.decode_head(self.backbone(x))


def build_param_groups(model, base_lr=1e-2, backbone_mult=0.1):
    backbone, head = [], []
    for name, p in model.named_parameters():
        if name.startswith("backbone."):
            backbone.append(p)
        elif name.startswith("decode_head."):
            head.append(p)
    return [{"params": backbone, "lr": base_lr * backbone_mult}, {"params": head, "lr": base_lr}]


def train(model, loader, epochs=2):
    optimizer = torch.optim.SGD(build_param_groups(model), lr=1e-2, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=epochs * len(loader), power=0.9)
    for _ in range(epochs):
        for images, masks in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), masks)
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(24)
    images = torch.randn(16, 3, 8, 8, generator=g)
    masks = (images[:, 0] > 0).long() + (images[:, 1] > 0.5).long()
    loader = DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True, generator=g)
    net = SegmentationNet()
    model = nn.DataParallel(net)
    head0, bb0 = net.decode_head.weight.detach().clone(), net.backbone[0].weight.detach().clone()
    train(model, loader)
    facts = {"head_changed": not torch.equal(head0, net.decode_head.weight),
             "backbone_changed": not torch.equal(bb0, net.backbone[0].weight)}
    return {"model": net}, facts

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
