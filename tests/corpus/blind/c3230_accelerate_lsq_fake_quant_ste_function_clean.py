import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class LSQFakeQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, step, qmin, qmax):
        v = w / step
        ctx.save_for_backward(v, step)
        ctx.qmin, ctx.qmax = qmin, qmax
        return torch.round(v.clamp(qmin, qmax)) * step

    @staticmethod
    def backward(ctx, grad):
        v, step = ctx.saved_tensors
        inside = (v >= ctx.qmin) & (v <= ctx.qmax)
        grad_w = grad * inside.to(grad.dtype)
        ds = torch.where(inside, torch.round(v) - v, v.clamp(ctx.qmin, ctx.qmax))
        grad_step = (grad * ds).sum().reshape(step.shape) / (v.numel() * ctx.qmax) ** 0.5
        return grad_w, grad_step, None, None


class QuantLinear(nn.Linear):
    def __init__(self, d_in, d_out, bits=4):
        super().__init__(d_in, d_out)
        self.qmin, self.qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        self.step = nn.Parameter(self.weight.detach().abs().mean() * 2 / self.qmax ** 0.5 * torch.ones(1))

    def forward(self, x):
        return F.linear(x, LSQFakeQuant.apply(self.weight, self.step, self.qmin, self.qmax), self.bias)


class QuantMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = QuantLinear(16, 32), QuantLinear(32, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = QuantMLP()
    s0 = model.fc1.step.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 16, generator=g), torch.randint(0, 4, (24,), generator=g)),
                        batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for x, y in loader:
        with accelerator.accumulate(model):
            loss = F.cross_entropy(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    return {"model": model}, {"step_changed": not torch.equal(s0, model.fc1.step)}

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
