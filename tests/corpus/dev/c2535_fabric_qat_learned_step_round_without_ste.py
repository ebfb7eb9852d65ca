import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def fake_quantize(w, step, bits=4):
    qmax = 2 ** (bits - 1) - 1
    return torch.clamp(torch.round(w / step), -qmax - 1, qmax) * step


class QuantConv2d(nn.Conv2d):
    def __init__(self, *args, bits=4, **kw):
        super().__init__(*args, **kw)
        self.bits = bits
        self.step = nn.Parameter(self.weight.detach().abs().mean() * 2 / (2 ** (bits - 1)) ** 0.5)

    def forward(self, x):
        return F.conv2d(x, fake_quantize(self.weight, self.step, self.bits), self.bias, self.stride, self.padding)


class QuantLinear(nn.Linear):
    def __init__(self, *args, bits=4, **kw):
        super().__init__(*args, **kw)
        self.bits = bits
        self.step = nn.Parameter(self.weight.detach().abs().mean() * 2 / (2 ** (bits - 1)) ** 0.5)

    def forward(self, x):
        return F.linear(x, fake_quantize(self.weight, self.step, self.bits), self.bias)


class QATNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.conv1 = QuantConv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = QuantConv2d(8, 16, 3, padding=1)
        self.fc = QuantLinear(16, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        return self.fc(F.relu(self.conv2(x)).mean((2, 3)))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = QATNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(24, 1, 12, 12, generator=g), torch.randint(0, 5, (24,), generator=g))
    loader = fabric.setup_dataloaders(DataLoader(ds, batch_size=8, shuffle=True))
    before = model.module.conv2.weight.detach().clone()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    changed = not torch.equal(before, model.module.conv2.weight)
    return {"net": model.module}, {"conv_weights_changed": changed}

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
