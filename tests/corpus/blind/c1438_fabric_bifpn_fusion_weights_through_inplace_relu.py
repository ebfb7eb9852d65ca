import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FastNormalizedFusion(nn.Module):
    """EfficientDet-style weighted feature fusion: w_i = relu(w_i) / (sum_j relu(w_j) + eps)."""

    def __init__(self, n_inputs=2, eps=1e-4):
        super().__init__()
        self.weights = nn.Parameter(torch.ones(n_inputs))
        self.weight_act = nn.ReLU(inplace=True)
        self.eps = eps

    def forward(self, *features):
        w = self.weight_act(self.weights)
        w = w / (w.sum() + self.eps)
        return sum(wi * f for wi, f in zip(w, features))


class TinyBiFPN(nn.Module):
    def __init__(self, ch=8, n_classes=3):
        super().__init__()
        self.p3 = nn.Conv2d(3, ch, 3, padding=1)
        self.p4 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.fuse = FastNormalizedFusion(2)
        self.head = nn.Conv2d(ch, n_classes, 1)

    def forward(self, x):
        p3 = F.relu(self.p3(x))
        p4 = F.relu(self.p4(p3))
        fused = self.fuse(p3, F.interpolate(p4, size=p3.shape[-2:], mode="nearest"))
        return self.head(fused).mean(dim=(2, 3))


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = TinyBiFPN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(39)
    loader = fabric.setup_dataloaders(DataLoader(
        TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 3, (24,), generator=g)),
        batch_size=8, shuffle=True, generator=g))
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
