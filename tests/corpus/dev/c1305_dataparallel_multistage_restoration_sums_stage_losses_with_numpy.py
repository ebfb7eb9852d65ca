import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class CharbonnierLoss(nn.Module):
    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = eps

    def forward(self, x, y):
        return torch.sqrt((x - y) ** 2 + self.eps ** 2).mean()


class Stage(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.PReLU(), nn.Conv2d(ch, 3, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class MultiStageRestorer(nn.Module):
    def __init__(self, stages=3):
        super().__init__()
        self.stages = nn.ModuleList(Stage() for _ in range(stages))

    def forward(self, degraded):
        outs, x = [], degraded
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs[::-1]


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for degraded, clean in loader:
        optimizer.zero_grad()
        restored = model(degraded)
        loss = np.sum([criterion(restored[j], clean) for j in range(len(restored))])
        loss.backward()
        optimizer.step()


def make_loader():
    g = torch.Generator().manual_seed(2)
    clean = torch.rand(16, 3, 8, 8, generator=g)
    degraded = clean + 0.1 * torch.randn(16, 3, 8, 8, generator=g)
    return DataLoader(TensorDataset(degraded, clean), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    net = MultiStageRestorer()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    train_epoch(model, make_loader(), optimizer, CharbonnierLoss())
    return {"model": net}

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
