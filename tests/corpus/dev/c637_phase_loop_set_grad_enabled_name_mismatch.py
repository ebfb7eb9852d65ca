import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_model(n_classes=3):
    backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return nn.Sequential(backbone, nn.Linear(8, n_classes))


def run_epoch(model, loader, optimizer, phase):
    is_training = phase == "training"
    model.train(is_training)
    running_loss, correct = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        with torch.set_grad_enabled(is_training):
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if phase == "train":
                loss.backward()
                optimizer.step()
        running_loss += loss.item() * x.shape[0]
        correct += (logits.argmax(dim=1) == y).sum().item()
    return running_loss / len(loader.dataset), correct / len(loader.dataset)


def fit(model, loaders, optimizer, scheduler, epochs=1):
    best_acc, best_state = 0.0, copy.deepcopy(model.state_dict())
    for _ in range(epochs):
        for phase in ("train", "val"):
            _, acc = run_epoch(model, loaders[phase], optimizer, phase)
            if phase == "train":
                scheduler.step()
            elif acc > best_acc:
                best_acc, best_state = acc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    make = lambda n: TensorDataset(torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g))
    loaders = {"train": DataLoader(make(32), batch_size=16, shuffle=True), "val": DataLoader(make(16), batch_size=16)}
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    fit(model, loaders, optimizer, scheduler)
    return {"model": model}

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
