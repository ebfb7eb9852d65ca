import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TensorGenerationModule(nn.Module):
    """Produces rank-1 channel / height / width attention vectors from pooled features."""

    def __init__(self, channels, rank):
        super().__init__()
        self.rank = rank
        self.c_fc = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in range(rank))

    def forward(self, x):
        pooled_c = F.adaptive_avg_pool2d(x, 1)
        pooled_h = x.mean(dim=(1, 3), keepdim=True)
        pooled_w = x.mean(dim=(1, 2), keepdim=True)
        return [(torch.sigmoid(fc(pooled_c)), torch.sigmoid(pooled_h), torch.sigmoid(pooled_w)) for fc in self.c_fc]


class TensorReconstructionModule(nn.Module):
    """Context = weighted sum of the rank-1 tensors c x h x w (RecoNet-style), added back to the features."""

    def __init__(self, channels=8, rank=4):
        super().__init__()
        self.tgm = TensorGenerationModule(channels, rank)
        self.lam = torch.ones(rank, requires_grad=True)

    def forward(self, x):
        parts = self.tgm(x)
        context = sum(self.lam[i] * (c * h * w) for i, (c, h, w) in enumerate(parts))
        return x + x * context


class ContextSegNet(nn.Module):
    def __init__(self, n_classes=3, channels=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU())
        self.context = TensorReconstructionModule(channels)
        self.head = nn.Conv2d(channels, n_classes, 1)

    def forward(self, x):
        return self.head(self.context(self.stem(x)))


def make_loader(n=24, size=8):
    g = torch.Generator().manual_seed(33)
    images = torch.rand(n, 3, size, size, generator=g)
    labels = images.argmax(dim=1)
    return DataLoader(TensorDataset(images, labels), batch_size=6, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ContextSegNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    lam = model.module.context.lam
    lam0 = lam.detach().clone()
    for epoch in range(2):
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            fabric.backward(loss)
            optimizer.step()
    return ({"model": model.module, "context_lam": lam},
            {"lam_changed": not torch.equal(lam0, lam.detach()),
             "lam_in_state_dict": any(k.endswith("lam") for k in model.module.state_dict())})

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
