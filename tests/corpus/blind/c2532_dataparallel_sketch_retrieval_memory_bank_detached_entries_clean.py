import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Branch(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.proj = nn.Linear(16, dim)

    def forward(self, x):
        return F.normalize(self.proj(self.conv(x)), dim=-1)


class SketchPhotoNet(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.sketch = Branch(dim)
        self.photo = Branch(dim)

    def forward(self, sketches, photos):
        return self.sketch(sketches), self.photo(photos)


class ClassMemory:
    """Per-class running centers of photo embeddings (a non-trainable bank)."""

    def __init__(self, n_classes=5, dim=16, momentum=0.9):
        self.centers = torch.zeros(n_classes, dim)
        self.momentum = momentum

    def add_entries(self, feats, labels):
        for c in labels.unique():
            mean = feats[labels == c].mean(0)
            self.centers[c] = F.normalize(self.momentum * self.centers[c] + (1 - self.momentum) * mean, dim=0)

    def memory_loss(self, feats, labels, tau=0.1):
        logits = feats @ self.centers.t() / tau
        return F.cross_entropy(logits, labels)


def train(model, loader, optimizer, memory, epochs=2):
    model.train()
    for _ in range(epochs):
        for sk, ph, y in loader:
            zs, zp = model(sk, ph)
            memory.add_entries(zp.detach(), y)
            align = 1 - (zs * zp).sum(-1).mean()
            loss = align + memory.memory_loss(zs, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(SketchPhotoNet())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    photos = torch.rand(20, 1, 16, 16, generator=g)
    sketches = (photos > 0.5).float()
    labels = torch.arange(20) % 5
    memory = ClassMemory()
    loader = DataLoader(TensorDataset(sketches, photos, labels), batch_size=10, shuffle=True)
    before = model.module.sketch.proj.weight.detach().clone()
    train(model, loader, optimizer, memory)
    changed = not torch.equal(before, model.module.sketch.proj.weight)
    return {"net": model.module}, {"sketch_branch_changed": changed, "memory_requires_grad": memory.centers.requires_grad}

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
