import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class LSQQuantize(torch.autograd.Function):
    """Learned step size quantization with a straight-through estimator for the rounding."""

    @staticmethod
    def forward(ctx, x, step, qmin, qmax):
        v = x / step
        ctx.save_for_backward(v, step)
        ctx.qmin, ctx.qmax = qmin, qmax
        return torch.clamp(torch.round(v), qmin, qmax) * step

    @staticmethod
    def backward(ctx, grad_output):
        v, step = ctx.saved_tensors
        inside = (v >= ctx.qmin) & (v <= ctx.qmax)
        grad_x = grad_output * inside.to(grad_output.dtype)
        return grad_x, None, None, None


class QuantLinear(nn.Linear):
    def __init__(self, in_f, out_f, bits=4):
        super().__init__(in_f, out_f)
        self.qmin, self.qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        self.step_size = nn.Parameter(self.weight.detach().abs().mean() * 2 / (self.qmax ** 0.5))

    def forward(self, x):
        w_q = LSQQuantize.apply(self.weight, self.step_size, self.qmin, self.qmax)
        return F.linear(x, w_q, self.bias)


class QuantMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = QuantLinear(10, 32)
        self.fc2 = QuantLinear(32, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def main():
    set_seed(0)
    accelerator = Accelerator()
    y = torch.randint(0, 3, (48,))
    x = torch.randn(48, 10) + F.one_hot(y, 10).float() * 2
    loader = DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True)
    model = QuantMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    s0, w0 = model.fc1.step_size.detach().clone(), model.fc1.weight.detach().clone()
    for xb, yb in loader:
        optimizer.zero_grad()
        accelerator.backward(F.cross_entropy(model(xb), yb))
        optimizer.step()
    return {"model": model}, {
        "step_size_changed": not torch.equal(s0, model.fc1.step_size),
        "weights_changed": not torch.equal(w0, model.fc1.weight),
    }

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
