import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ChoiceBlock(nn.Module):
    """One searchable layer of a one-shot supernet: 3x3 or 5x5 conv path."""

    def __init__(self, ch):
        super().__init__()
        self.ops = nn.ModuleList([
            nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU()),
            nn.Sequential(nn.Conv2d(ch, ch, 5, padding=2), nn.BatchNorm2d(ch), nn.ReLU()),
        ])

    def forward(self, x, choice):
        return self.ops[choice](x)


class SuperNet(nn.Module):
    def __init__(self, ch=8, depth=3, n_classes=4):
        super().__init__()
        self.stem = nn.Conv2d(3, ch, 3, padding=1)
        self.blocks = nn.ModuleList([ChoiceBlock(ch) for _ in range(depth)])
        self.head = nn.Linear(ch, n_classes)

    def forward(self, x, arch):
        x = self.stem(x)
        for block, choice in zip(self.blocks, arch):
            x = block(x, choice)
        return self.head(x.mean(dim=(2, 3)))


def recalibrate_bn(model, arch, loader, n_batches=2):
    """Reset and re-estimate BN statistics for the sampled path before evaluating / fine-tuning it."""
    for param in model.parameters():
        param.requires_grad = False
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for i, (x, _) in enumerate(loader):
        if i >= n_batches:
            break
        model(x, arch)


def finetune(model, arch, loader, optimizer):
    for x, y in loader:
        loss = F.cross_entropy(model(x, arch), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    random.seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 4, (32,))), batch_size=8)
    model = nn.DataParallel(SuperNet())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    arch = [random.randint(0, 1) for _ in range(3)]
    recalibrate_bn(model.module, arch, loader)
    finetune(model, arch, loader, optimizer)
    return {"supernet": model.module}

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
