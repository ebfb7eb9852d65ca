import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FusedLinearGELU(torch.autograd.Function):
    """y = gelu(x @ W^T + b) with a hand-written backward (tanh approximation of GELU)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        return F.gelu(pre, approximate="tanh")

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        c = math.sqrt(2.0 / math.pi)
        inner = c * (pre + 0.044715 * pre.pow(3))
        t = torch.tanh(inner)
        dgelu = 0.5 * (1 + t) + 0.5 * pre * (1 - t.pow(2)) * c * (1 + 3 * 0.044715 * pre.pow(2))
        grad_pre = grad_out * dgelu
        grad_input = grad_pre @ weight
        grad_weight = grad_pre.t() @ x
        grad_bias = grad_pre.sum(0)
        return grad_weight, grad_input, grad_bias


class FusedMLPBlock(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return FusedLinearGELU.apply(x, self.weight, self.bias)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = FusedMLPBlock(8, 16)
        self.block2 = FusedMLPBlock(16, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return self.out(self.block2(self.block1(x))).squeeze(-1)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(97)
    x = torch.randn(96, 8, generator=g)
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1]
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)
    model = Regressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(3):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
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
