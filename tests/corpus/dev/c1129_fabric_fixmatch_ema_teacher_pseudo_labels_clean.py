import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, in_dim=10, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.fc = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.fc(self.features(x))


def weak_aug(x):
    return x + 0.05 * torch.randn_like(x)


def strong_aug(x):
    return x * (torch.rand_like(x) > 0.2).float() + 0.3 * torch.randn_like(x)


@torch.no_grad()
def ema_update(ema_model, model, decay=0.99):
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)


def fixmatch_loss(model, ema_model, labeled, unlabeled, threshold=0.6, lam=1.0):
    x, y = labeled
    (u,) = unlabeled
    sup = F.cross_entropy(model(weak_aug(x)), y)
    with torch.no_grad():
        probs = F.softmax(ema_model(weak_aug(u)), dim=1)
        conf, pseudo = probs.max(dim=1)
        mask = (conf >= threshold).float()
    unsup = (F.cross_entropy(model(strong_aug(u)), pseudo, reduction="none") * mask).mean()
    return sup + lam * unsup


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    x = torch.randn(96, 10)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    labeled = DataLoader(TensorDataset(x[:24], y[:24]), batch_size=8, shuffle=True)
    unlabeled = DataLoader(TensorDataset(x[24:]), batch_size=24, shuffle=True)
    model = Classifier()
    ema_model = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    model, optimizer = fabric.setup(model, optimizer)
    labeled, unlabeled = fabric.setup_dataloaders(labeled, unlabeled)
    for lb, ub in zip(labeled, unlabeled):
        loss = fixmatch_loss(model, ema_model, lb, ub)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        ema_update(ema_model, model.module)
    return {"model": model.module}

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
