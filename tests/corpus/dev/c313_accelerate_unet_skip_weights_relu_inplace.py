import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator


class WeightedSkip(nn.Module):
    """Learned, non-negative mix of the upsampled decoder map and the encoder skip."""

    def __init__(self, ch, eps=1e-4):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2))
        self.weight_relu = nn.ReLU(inplace=True)
        self.eps = eps
        self.conv = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())

    def forward(self, up, skip):
        w = self.weight_relu(self.weight)
        w = w / (w.sum() + self.eps)
        return self.conv(w[0] * up + w[1] * skip)


class MiniUNet(nn.Module):
    def __init__(self, ch=8, n_classes=2):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(ch, ch, 3, stride=2, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(ch, ch, 2, stride=2)
        self.fuse = WeightedSkip(ch)
        self.out = nn.Conv2d(ch, n_classes, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        bottom = self.enc2(s1)
        return self.out(self.fuse(self.up(bottom), s1))


def make_loader(n=24, size=16):
    g = torch.Generator().manual_seed(0)
    img = torch.rand(n, 1, size, size, generator=g)
    mask = (img > 0.5).long().squeeze(1)
    return DataLoader(TensorDataset(img, mask), batch_size=8, shuffle=True, generator=g)


def main():
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    model = MiniUNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    for epoch in range(2):
        for img, mask in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(img), mask)
            accelerator.backward(loss)
            optimizer.step()
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
