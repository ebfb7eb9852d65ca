import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FeatureExtractor(nn.Module):
    def __init__(self, width=12):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.layers(x).mean((2, 3))


class TransferModel(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.backbone = FeatureExtractor()
        self.head = nn.Linear(12, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def unfreeze_backbone(model, optimizer, lr):
    backbone = model.module.backbone
    set_trainable(backbone, True)
    optimizer.add_param_group({"params": backbone.parameters(), "lr": lr})


def make_loader(n=32, bs=8):
    g = torch.Generator().manual_seed(40)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() + (x[:, 1].mean((1, 2)) > 0.2).long()
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def train_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(TransferModel())
    set_trainable(model.module.backbone, False)
    optimizer = torch.optim.SGD(model.module.head.parameters(), lr=0.05, momentum=0.9)
    bb0 = model.module.backbone.layers[0].weight.detach().clone()
    loader = make_loader()
    train_epoch(model, loader, optimizer)
    frozen_phase_unchanged = torch.equal(bb0, model.module.backbone.layers[0].weight)
    unfreeze_backbone(model, optimizer, lr=0.01)
    train_epoch(model, loader, optimizer)
    return {"model": model.module}, {
        "backbone_frozen_in_phase1": frozen_phase_unchanged,
        "backbone_changed": not torch.equal(bb0, model.module.backbone.layers[0].weight),
        "n_param_groups": len(optimizer.param_groups),
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
