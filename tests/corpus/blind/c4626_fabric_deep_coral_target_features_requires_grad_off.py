import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

DA = {"img": 16, "classes": 4, "feat": 32, "coral_weight": 1.0, "lr": 1e-3, "epochs": 2, "batch": 8}


def covariance(f):
    n = f.size(0)
    centered = f - f.mean(0, keepdim=True)
    return centered.t() @ centered / (n - 1)


def coral_loss(source, target):
    target.requires_grad_(False)
    d = source.size(1)
    return (covariance(source) - covariance(target)).pow(2).sum() / (4 * d * d)


class FeatureExtractor(nn.Module):
    def __init__(self, feat):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(32, feat)

    def forward(self, x):
        return F.relu(self.fc(self.conv(x).flatten(1)))


class CoralNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.features = FeatureExtractor(cfg["feat"])
        self.classifier = nn.Linear(cfg["feat"], cfg["classes"])

    def forward(self, x):
        f = self.features(x)
        return f, self.classifier(f)


def office_like_domains(cfg, n=32):
    """Amazon-like (clean) source with labels, webcam-like (blurred, color-shifted) target without."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, cfg["classes"], (n,), generator=g)
    src = torch.randn(n, 3, cfg["img"], cfg["img"], generator=g) + y.view(-1, 1, 1, 1) * 0.5
    tgt = torch.randn(n, 3, cfg["img"], cfg["img"], generator=g) * 0.5 + 0.3
    tgt = F.avg_pool2d(tgt, 3, stride=1, padding=1)
    return (DataLoader(TensorDataset(src, y), batch_size=cfg["batch"], shuffle=True, generator=g),
            DataLoader(TensorDataset(tgt), batch_size=cfg["batch"], shuffle=True, generator=g))


def train(fabric, model, optimizer, source_loader, target_loader, cfg):
    model.train()
    for epoch in range(cfg["epochs"]):
        for (xs, ys), (xt,) in zip(source_loader, target_loader):
            fs, logits = model(xs)
            ft, _ = model(xt)
            cls = F.cross_entropy(logits, ys)
            loss = cls + cfg["coral_weight"] * coral_loss(fs, ft)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            fabric.log_dict({"cls": cls.item(), "total": loss.item()})


@torch.no_grad()
def domain_gap(model, source_loader, target_loader):
    model.eval()
    fs = torch.cat([model(x)[0] for x, _ in source_loader])
    ft = torch.cat([model(x)[0] for (x,) in target_loader])
    return (covariance(fs) - covariance(ft)).norm().item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = CoralNet(DA)
    optimizer = torch.optim.SGD(model.parameters(), lr=DA["lr"], momentum=0.9, weight_decay=5e-4)
    model, optimizer = fabric.setup(model, optimizer)
    source_loader, target_loader = fabric.setup_dataloaders(*office_like_domains(DA))
    w0 = model.module.features.fc.weight.detach().clone()
    train(fabric, model, optimizer, source_loader, target_loader, DA)
    domain_gap(model, source_loader, target_loader)
    return {"model": model.module}, {"features_changed": not torch.equal(w0, model.module.features.fc.weight)}

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
