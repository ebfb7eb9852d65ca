import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FeatureExtractor(nn.Module):
    """Stands in for a pretrained CNN trunk."""

    def __init__(self, width=8):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                    nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                    nn.Flatten())
        self.out_dim = width

    def forward(self, x):
        return self.layers(x)


class LinearProbe(nn.Module):
    def __init__(self, backbone, n_classes):
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Linear(backbone.out_dim, n_classes))

    def forward(self, x):
        return self.classifier(self.backbone(x))

    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()  # keep frozen BatchNorm statistics fixed
        return self


def freeze(module):
    module.requires_grad_(False)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = LinearProbe(FeatureExtractor(), n_classes=5)
    freeze(model.backbone)
    optimizer = torch.optim.SGD(model.classifier.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(torch.randn(30, 3, 8, 8), torch.randint(0, 5, (30,))), batch_size=10)
    bb_before = model.backbone.layers[0].weight.detach().clone()
    rm_before = model.backbone.layers[1].running_mean.clone()
    head_before = model.classifier[1].weight.detach().clone()
    train(model, loader, optimizer)
    facts = {
        "backbone_changed": not torch.equal(bb_before, model.backbone.layers[0].weight.detach()),
        "bn_stats_changed": not torch.equal(rm_before, model.backbone.layers[1].running_mean),
        "head_changed": not torch.equal(head_before, model.classifier[1].weight.detach()),
    }
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
