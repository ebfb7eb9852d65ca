import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioCNN(nn.Module):
    """Small spectrogram CNN; imagine it pretrained on a 10-class sound-event dataset."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(16, n_classes)

    def forward(self, spec):
        return self.classifier(self.features(spec).flatten(1))


def adapt_to_new_labels(model, n_classes):
    model.classifier = nn.Linear(model.classifier.in_features, n_classes)
    return model


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for spec, y in loader:
            loss = F.cross_entropy(model(spec), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    spec = torch.randn(32, 1, 16, 16, generator=g)
    y = torch.randint(0, 4, (32,), generator=g)
    loader = DataLoader(TensorDataset(spec, y), batch_size=8, shuffle=True, generator=g)
    model = AudioCNN(n_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    adapt_to_new_labels(model, n_classes=4)
    head_before = model.classifier.weight.detach().clone()
    feat_before = model.features[0].weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    in_opt = {id(p) for grp in optimizer.param_groups for p in grp["params"]}
    facts = {
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
        "features_changed": not torch.equal(feat_before, model.features[0].weight),
        "classifier_in_optimizer": id(model.classifier.weight) in in_opt,
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
