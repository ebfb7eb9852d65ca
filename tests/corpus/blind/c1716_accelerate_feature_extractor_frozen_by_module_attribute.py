import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Flatten(nn.Module):
    def forward(self, x):
        return x.flatten(1)


def build_model(n_classes=10):
    """MNIST-style MLP: a pretrained first layer (l1) and a new classifier (l2)."""
    l1 = nn.Linear(64, 32)
    l2 = nn.Linear(32, n_classes)
    model = nn.Sequential(Flatten(), l1, nn.ReLU(), l2)
    return model, l1, l2


def load_pretrained(l1, seed=7):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        l1.weight.copy_(torch.randn(l1.weight.shape, generator=g) * 0.1)
        l1.bias.zero_()


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(48, 8, 8, generator=g)
    labels = torch.randint(0, 10, (48,), generator=g)
    model, l1, l2 = build_model()
    load_pretrained(l1)
    l1.requires_grad = False  # keep the pretrained feature layer fixed
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)
    accelerator = Accelerator()
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = l1.weight.detach().clone()
    for x, y in loader:
        optimizer.zero_grad()
        accelerator.backward(F.cross_entropy(model(x), y))
        optimizer.step()
    return {"model": model}, {"pretrained_layer_changed": not torch.equal(w0, l1.weight),
                              "pretrained_weight_requires_grad": l1.weight.requires_grad}

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
