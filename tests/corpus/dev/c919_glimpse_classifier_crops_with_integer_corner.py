import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GlimpseClassifier(nn.Module):
    def __init__(self, size=8, n_classes=4):
        super().__init__()
        self.size = size
        self.locator = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                                     nn.Flatten(), nn.Linear(128, 2))
        self.glimpse_net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                         nn.Flatten())
        self.head = nn.Linear(16, n_classes)

    def crop(self, img, loc):
        h = img.shape[-1]
        corner = ((torch.tanh(loc) + 1) / 2 * (h - self.size)).long()
        patches = [img[i, :, r:r + self.size, c:c + self.size] for i, (r, c) in enumerate(corner.tolist())]
        return torch.stack(patches)

    def forward(self, img):
        loc = self.locator(img)
        return self.head(self.glimpse_net(self.crop(img, loc)))


def make_loader(n=64, size=24, n_classes=4):
    g = torch.Generator().manual_seed(0)
    img = 0.1 * torch.randn(n, 1, size, size, generator=g)
    y = torch.randint(0, n_classes, (n,), generator=g)
    for i in range(n):
        r, c = torch.randint(0, size - 6, (2,), generator=g).tolist()
        img[i, 0, r:r + 6, c:c + 6] += float(y[i] + 1)
    return DataLoader(TensorDataset(img, y), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for img, y in loader:
            loss = F.cross_entropy(model(img), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = GlimpseClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, make_loader(), optimizer)
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
