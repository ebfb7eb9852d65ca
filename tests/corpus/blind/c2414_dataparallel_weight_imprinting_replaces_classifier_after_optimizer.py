import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBackbone(nn.Module):
    def __init__(self, ch=8, dim=32):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(ch, 2 * ch, 3, padding=1), nn.BatchNorm2d(2 * ch), nn.ReLU())
        self.fc = nn.Linear(2 * ch, dim)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


class CosineClassifier(nn.Module):
    def __init__(self, dim, n_classes, scale=10.0):
        super().__init__()
        self.weight = nn.Parameter(F.normalize(torch.randn(n_classes, dim), dim=-1))
        self.scale = scale

    def forward(self, feats):
        return self.scale * F.normalize(feats, dim=-1) @ F.normalize(self.weight, dim=-1).T


class FewShotNet(nn.Module):
    def __init__(self, n_base=5, dim=32):
        super().__init__()
        self.backbone = ConvBackbone(dim=dim)
        self.classifier = CosineClassifier(dim, n_base)

    def forward(self, x):
        return self.classifier(self.backbone(x))


@torch.no_grad()
def imprint_novel_classes(net, support_x, support_y, n_novel):
    """Append one weight row per novel class: the normalized mean embedding of its support images."""
    net.eval()
    feats = F.normalize(net.backbone(support_x), dim=-1)
    rows = torch.stack([feats[support_y == c].mean(0) for c in range(n_novel)])
    net.classifier.weight = nn.Parameter(torch.cat([net.classifier.weight, F.normalize(rows, dim=-1)]))
    net.train()


def finetune(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(FewShotNet())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    base = TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 5, (32,)))
    finetune(model, DataLoader(base, batch_size=16, shuffle=True), optimizer, epochs=1)

    support_x, support_y = torch.randn(6, 3, 8, 8), torch.arange(3).repeat(2)
    imprint_novel_classes(model.module, support_x, support_y, n_novel=3)
    joint = TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 8, (32,)))
    w0 = model.module.classifier.weight.detach().clone()
    finetune(model, DataLoader(joint, batch_size=16, shuffle=True), optimizer)
    return ({"net": model.module},
            {"classifier_changed": not torch.equal(w0, model.module.classifier.weight.detach())})

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
