import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WSConv2d(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        var = w.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
        return F.conv2d(x, (w - mean) * (var + 1e-5).rsqrt(), self.bias, self.stride, self.padding)


class BasicBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = WSConv2d(ch, ch, 3, padding=1)
        self.gn1 = nn.GroupNorm(2, ch)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = WSConv2d(ch, ch, 3, padding=1)
        self.gn2 = nn.GroupNorm(2, ch)

    def forward(self, x):
        out = self.relu(self.gn1(self.conv1(x)))
        out = self.gn2(self.conv2(out))
        out += x
        return self.relu(out)


class SmallResNet(nn.Module):
    def __init__(self, ch=8, n_classes=3):
        super().__init__()
        self.stem = nn.Sequential(WSConv2d(3, ch, 3, padding=1), nn.GroupNorm(2, ch), nn.ReLU(inplace=True))
        self.layer = nn.Sequential(BasicBlock(ch), BasicBlock(ch))
        self.fc = nn.Linear(ch, n_classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.layer(self.stem(x)), 1).flatten(1))


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 8, 8)
    y = x.mean((2, 3)).argmax(1)
    model = nn.DataParallel(SmallResNet())
    optimizer = torch.optim.SGD(model.module.parameters(), lr=0.1, momentum=0.9)
    before = model.module.layer[0].conv1.weight.detach().clone()
    train(model, DataLoader(TensorDataset(x, y), batch_size=4), optimizer)
    facts = {"block_conv_changed": not torch.equal(before, model.module.layer[0].conv1.weight)}
    return {"model": model.module}, facts

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
