import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class InplaceLeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope):
        mask = x > 0
        x.mul_(torch.where(mask, 1.0, slope))
        ctx.mark_dirty(x)
        ctx.save_for_backward(mask)
        ctx.slope = slope
        return x

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * torch.where(mask, 1.0, ctx.slope), None


class MemoryLeanMLP(nn.Module):
    def __init__(self, in_dim=16, hidden=32, n_classes=3, slope=0.1):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, n_classes)
        self.slope = slope

    def forward(self, x):
        h = InplaceLeakyReLU.apply(self.fc1(x), self.slope)
        h = InplaceLeakyReLU.apply(self.fc2(h), self.slope)
        return self.out(h)


def run(fabric, model, optimizer, batches, epochs=2):
    for _ in range(epochs):
        for x, y in batches:
            optimizer.zero_grad()
            fabric.backward(F.cross_entropy(model(x), y))
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = MemoryLeanMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(16, 16, generator=g), torch.randint(0, 3, (16,), generator=g)) for _ in range(4)]
    fc1_0 = model.module.fc1.weight.detach().clone()
    out_0 = model.module.out.weight.detach().clone()
    run(fabric, model, optimizer, batches)
    facts = {"fc1_changed": not torch.equal(fc1_0, model.module.fc1.weight),
             "out_changed": not torch.equal(out_0, model.module.out.weight)}
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
