import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LinearQuantizeSTE(torch.autograd.Function):
    """Round to a symmetric integer grid in forward; pass the gradient straight through in backward."""

    @staticmethod
    def forward(ctx, w, scale, bits):
        qmax = 2 ** (bits - 1) - 1
        return torch.clamp(torch.round(w / scale), -qmax, qmax) * scale

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


class QuantLinear(nn.Module):
    """Keeps a full-precision `float_weight` that the optimizer updates; the forward uses its quantized copy."""

    def __init__(self, in_features, out_features, bits=4):
        super().__init__()
        self.float_weight = nn.Parameter(torch.randn(out_features, in_features) * in_features ** -0.5)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.bits = bits
        self.register_buffer("scale", torch.tensor(1.0))

    @torch.no_grad()
    def update_scale(self):
        self.scale.copy_(self.float_weight.abs().max() / (2 ** (self.bits - 1) - 1))

    def forward(self, x):
        q_weight = LinearQuantizeSTE.apply(self.float_weight, self.scale, self.bits)
        return F.linear(x, q_weight, self.bias)


class QuantMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = QuantLinear(12, 24), QuantLinear(24, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def make_loader(n=96):
    g = torch.Generator().manual_seed(29)
    x = torch.randn(n, 12, generator=g)
    y = (x[:, :3] * torch.tensor([1.0, -1.0, 0.5])).argmax(dim=1)
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = QuantMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    compiled = torch.compile(model, backend="eager")
    w0 = model.fc1.float_weight.detach().clone()
    for epoch in range(2):
        for m in (model.fc1, model.fc2):
            m.update_scale()
        for x, y in make_loader():
            optimizer.zero_grad()
            F.cross_entropy(compiled(x), y).backward()
            optimizer.step()
    return {"model": model}, {"float_weight_changed": not torch.equal(w0, model.fc1.float_weight)}

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
