import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ECGNet(nn.Module):
    """Tiny 1D CNN for single-lead ECG beat classification, trained across hospitals."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, 8, 7, padding=3), nn.ReLU(), nn.MaxPool1d(2),
                                  nn.Conv1d(8, 8, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(4))
        self.fc = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def local_update(global_model, dataset, lr=0.05, epochs=1):
    local_model = copy.deepcopy(global_model)
    optimizer = torch.optim.SGD(local_model.parameters(), lr=lr, momentum=0.5)
    local_model.train()
    for _ in range(epochs):
        for x, y in DataLoader(dataset, batch_size=8, shuffle=True):
            loss = F.cross_entropy(local_model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return local_model, len(dataset)


@torch.no_grad()
def fed_avg_(global_model, local_models, sizes):
    total = float(sum(sizes))
    for name, p in global_model.named_parameters():
        p.copy_(sum(dict(m.named_parameters())[name] * (n / total) for m, n in zip(local_models, sizes)))


def make_hospital(seed, n=24, length=32):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    t = torch.linspace(-1, 1, length)
    x = 0.2 * torch.randn(n, 1, length, generator=g)
    for i in range(n):
        x[i, 0] += torch.exp(-((t - 0.3 * (int(y[i]) - 1)) ** 2) / 0.02)
    return TensorDataset(x, y)


def main():
    torch.manual_seed(0)
    global_model = ECGNet()
    hospitals = [make_hospital(s) for s in range(3)]
    w0 = global_model.fc.weight.detach().clone()
    for rnd in range(3):
        results = [local_update(global_model, data) for data in hospitals]
        fed_avg_(global_model, [m for m, _ in results], [n for _, n in results])
    last_local = results[0][0]
    return {"client0": last_local}, {
        "global_changed": not torch.allclose(w0, global_model.fc.weight, rtol=0.0, atol=1e-6),
    }

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
