import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 20, "hidden": 64, "classes": 4, "lr": 1e-2, "epochs": 2, "grad_accum": 2}


class BinarizeSTE(torch.autograd.Function):
    """sign() forward, clipped straight-through backward (BinaryConnect)."""

    def forward(self, w):
        self.save_for_backward(w)
        return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))

    def backward(self, grad_output):
        (w,) = self.saved_tensors
        return grad_output * (w.abs() <= 1).to(grad_output.dtype)


class BinaryLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, BinarizeSTE()(self.weight), self.bias)


class BinaryMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = BinaryLinear(cfg["in_dim"], cfg["hidden"])
        self.bn = nn.BatchNorm1d(cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], cfg["classes"])

    def forward(self, x):
        return self.fc2(torch.tanh(self.bn(self.fc1(x))))


def train(accelerator, model, optimizer, scheduler, loader, epochs):
    for _ in range(epochs):
        for x, y in loader:
            with accelerator.accumulate(model):
                loss = F.cross_entropy(model(x), y)
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                with torch.no_grad():
                    model.fc1.weight.clamp_(-1, 1)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=CFG["grad_accum"])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, CFG["in_dim"], generator=g)
    loader = DataLoader(TensorDataset(x, x[:, :CFG["classes"]].argmax(-1)), batch_size=16, shuffle=True, generator=g)
    model = BinaryMLP(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.98)
    model, optimizer, scheduler, loader = accelerator.prepare(model, optimizer, scheduler, loader)
    train(accelerator, model, optimizer, scheduler, loader, CFG["epochs"])
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
