import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def weak_aug(x):
    return x + 0.05 * torch.randn_like(x)


def strong_aug(x):
    return x * (torch.rand_like(x) > 0.3) + 0.3 * torch.randn_like(x)


class SignalNet(nn.Module):
    def __init__(self, in_dim=16, n_classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU())
        self.head = nn.Linear(48, n_classes)

    def forward(self, x):
        return self.head(self.body(x))


def fixmatch_unlabeled_loss(model, xu, threshold=0.6):
    with torch.no_grad():
        probs = F.softmax(model(weak_aug(xu)), dim=-1)
        confidence, pseudo = probs.max(dim=-1)
        mask = (confidence >= threshold).float()
    per_sample = F.cross_entropy(model(strong_aug(xu)), pseudo, reduction="none")
    return (per_sample * mask).mean(), mask.mean().item()


def train(fabric, model, optimizer, labeled, unlabeled, epochs=3, lambda_u=1.0):
    model.train()
    history = []
    for _ in range(epochs):
        for (xl, yl), (xu,) in zip(labeled, itertools.cycle(unlabeled)):
            sup = F.cross_entropy(model(weak_aug(xl)), yl)
            unsup, used = fixmatch_unlabeled_loss(model, xu)
            loss = sup + lambda_u * unsup
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            history.append((loss.item(), used))
    return history


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(107)
    g = torch.Generator().manual_seed(107)
    centers = torch.randn(3, 16, generator=g) * 3
    y = torch.randint(0, 3, (96,), generator=g)
    x = centers[y] + torch.randn(96, 16, generator=g)
    labeled = DataLoader(TensorDataset(x[:24], y[:24]), batch_size=8, shuffle=True, generator=g)
    unlabeled = DataLoader(TensorDataset(x[24:]), batch_size=24, shuffle=True, generator=g)
    labeled, unlabeled = fabric.setup_dataloaders(labeled, unlabeled)
    model = SignalNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    model, optimizer = fabric.setup(model, optimizer)
    w0 = model.module.body[0].weight.detach().clone()
    history = train(fabric, model, optimizer, labeled, unlabeled)
    return {"model": model.module}, {"body_changed": not torch.equal(w0, model.module.body[0].weight),
                                     "pseudo_labels_used": any(used > 0 for _, used in history)}

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
