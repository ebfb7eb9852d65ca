import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Embedder(nn.Module):
    def __init__(self, in_dim=20, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


def init_prototypes(n_classes, dim):
    # Xavier-style scale for the class prototypes
    return torch.randn(n_classes, dim, requires_grad=True) / math.sqrt(dim)


def proto_logits(z, prototypes, scale=10.0):
    return scale * z @ F.normalize(prototypes, dim=-1).t()


def build_optimizer(model, prototypes, lr=1e-2):
    return torch.optim.Adam([{"params": model.parameters()},
                             {"params": [prototypes], "lr": lr * 10}], lr=lr)


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(25)
    x = torch.randn(40, 20, generator=g)
    loader = DataLoader(TensorDataset(x, x[:, :6].argmax(1)), batch_size=8, shuffle=True)
    model = Embedder()
    prototypes = init_prototypes(6, 16)
    optimizer = build_optimizer(model, prototypes)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for epoch in range(2):
        for xb, yb in loader:
            loss = F.cross_entropy(proto_logits(model(xb), prototypes), yb)
            optimizer.zero_grad()
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
