import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FakeQuantLinearFn(torch.autograd.Function):
    """int8-style fake quantization of the weight; straight-through for the rounding."""

    @staticmethod
    def forward(ctx, x, weight, bias, scale):
        w_q = torch.clamp(torch.round(weight / scale), -127, 127) * scale
        ctx.save_for_backward(x, w_q)
        return F.linear(x, w_q, bias)

    @staticmethod
    def backward(ctx, grad_out):
        x, w_q = ctx.saved_tensors
        grad_x = grad_out @ w_q
        grad_b = grad_out.sum(0)
        return grad_x, None, grad_b, None


class QuantLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / in_features ** 0.5)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        scale = self.weight.detach().abs().max() / 127
        return FakeQuantLinearFn.apply(x, self.weight, self.bias, scale)


class QuantMLP(nn.Module):
    def __init__(self, in_dim=16, hidden=32, out_dim=4):
        super().__init__()
        self.fc1 = QuantLinear(in_dim, hidden)
        self.fc2 = QuantLinear(hidden, out_dim)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(128, 16)
    y = (x[:, :4].argmax(1))
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = QuantMLP()
    w_before = model.fc1.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, loader, optimizer)
    return {"model": model}, {"fc1_weight_changed": not torch.equal(w_before, model.fc1.weight)}

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
