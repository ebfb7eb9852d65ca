import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBackbone(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.out_dim = 2 * channels

    def forward(self, x):
        return self.features(x)


class Classifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.backbone = ConvBackbone()
        self.head = nn.Linear(self.backbone.out_dim, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def load_pretrained():
    # stands in for torch.load(...) of the 10-class source model
    torch.manual_seed(1)
    return Classifier(num_classes=10)


def build_optimizer(model, lr=1e-2, backbone_mult=0.1):
    groups = [
        {"params": model.backbone.parameters(), "lr": lr * backbone_mult},
        {"params": model.head.parameters(), "lr": lr},
    ]
    optimizer = torch.optim.SGD(groups, lr=lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    return optimizer, scheduler


def adapt_head(model, num_classes):
    model.head = nn.Linear(model.backbone.out_dim, num_classes)
    return model


def make_loader(num_classes=4, n=64):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, num_classes, (n,), generator=g)
    x = torch.randn(n, 1, 12, 12, generator=g) + y.view(-1, 1, 1, 1).float() * 0.5
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    model = load_pretrained()
    optimizer, scheduler = build_optimizer(model)
    model = adapt_head(model, num_classes=4)
    head_before = copy.deepcopy(model.head.weight.detach())
    train(model, make_loader(), optimizer, scheduler)
    in_opt = any(p is model.head.weight for g in optimizer.param_groups for p in g["params"])
    return {"model": model}, {"head_changed": not torch.equal(head_before, model.head.weight),
                              "head_in_optimizer": in_opt}

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
