import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FakeQuantLSQ(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale, qmax):
        ctx.save_for_backward(x, scale)
        ctx.qmax = qmax
        return torch.clamp(torch.round(x / scale), -qmax, qmax) * scale

    @staticmethod
    def backward(ctx, grad_out):
        x, scale = ctx.saved_tensors
        q = x / scale
        inside = (q.abs() <= ctx.qmax).to(grad_out.dtype)
        grad_x = grad_out * inside
        grad_scale = (grad_out * (torch.round(q) - q) * inside + grad_out * q.sign() * ctx.qmax * (1 - inside)).sum()
        return grad_x


class QuantLinear(nn.Linear):
    def __init__(self, d_in, d_out, bits=4):
        super().__init__(d_in, d_out)
        self.qmax = 2 ** (bits - 1) - 1
        self.w_scale = nn.Parameter(torch.tensor(0.05))

    def forward(self, x):
        w_q = FakeQuantLSQ.apply(self.weight, self.w_scale, self.qmax)
        return F.linear(x, w_q, self.bias)


class QATClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = QuantLinear(10, 32)
        self.fc2 = QuantLinear(32, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def train_qat(model, loader, epochs=2):
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(compiled(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(48, 10)
    y = (x[:, :3].argmax(1))
    model = QATClassifier()
    w0 = model.fc1.weight.detach().clone()
    s0 = model.fc1.w_scale.detach().clone()
    train_qat(model, DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True))
    return {"model": model}, {
        "step_size_changed": not torch.equal(s0, model.fc1.w_scale),
        "fc1_changed": not torch.equal(w0, model.fc1.weight),
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
