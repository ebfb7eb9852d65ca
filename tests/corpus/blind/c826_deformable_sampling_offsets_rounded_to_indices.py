import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DeformableSampler(nn.Module):
    """Predicts a 2-D offset per output location and samples the feature map there."""

    def __init__(self, ch=8):
        super().__init__()
        self.offset_net = nn.Conv2d(ch, 2, 3, padding=1)
        nn.init.normal_(self.offset_net.weight, std=0.1)

    def forward(self, feat):
        b, c, h, w = feat.shape
        offsets = self.offset_net(feat)
        ys, xs = torch.meshgrid(torch.arange(h, dtype=feat.dtype), torch.arange(w, dtype=feat.dtype), indexing="ij")
        py = (ys + offsets[:, 0]).round().long().clamp(0, h - 1)
        px = (xs + offsets[:, 1]).round().long().clamp(0, w - 1)
        bidx = torch.arange(b)[:, None, None].expand(b, h, w)
        sampled = feat.permute(0, 2, 3, 1)[bidx, py, px]
        return sampled.permute(0, 3, 1, 2)


class DeformNet(nn.Module):
    def __init__(self, n_classes=4, ch=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU())
        self.deform = DeformableSampler(ch)
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)
        self.fc = nn.Linear(ch, n_classes)

    def forward(self, x):
        h = self.stem(x)
        h = F.relu(self.conv(self.deform(h)))
        return self.fc(h.mean(dim=(2, 3)))


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(32, 1, 10, 10)
    y = torch.randint(0, 4, (32,))
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    model = DeformNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
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
