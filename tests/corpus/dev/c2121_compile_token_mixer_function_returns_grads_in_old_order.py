import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DecayMix(torch.autograd.Function):
    """Fused exponential-decay token mixing: y_t = sum_{s<=t} exp(-(t-s) * decay) * v_s, scaled by a gate.

    The signature used to be (gate, values, decay); values was moved first when the kernel was revamped.
    """

    @staticmethod
    def forward(ctx, values, gate, decay):
        T = values.shape[1]
        idx = torch.arange(T, dtype=values.dtype)
        dist = (idx[:, None] - idx[None, :]).clamp(min=0)
        mask = (idx[:, None] >= idx[None, :]).to(values.dtype)
        kernel = torch.exp(-dist[None] * decay[:, None, None]) * mask  # (C, T, T)
        mixed = torch.einsum("cts,bsc->btc", kernel, values)
        ctx.save_for_backward(values, gate, kernel, mixed)
        return mixed * gate

    @staticmethod
    def backward(ctx, grad_out):
        values, gate, kernel, mixed = ctx.saved_tensors
        grad_mixed = grad_out * gate
        grad_values = torch.einsum("cts,btc->bsc", kernel, grad_mixed)
        grad_gate = (grad_out * mixed).sum(dim=(0, 1))
        return grad_gate, grad_values, None


class MixerBlock(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.value = nn.Linear(dim, dim)
        self.gate = nn.Parameter(torch.ones(dim))
        self.register_buffer("decay", torch.linspace(0.1, 1.0, dim))
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.out(DecayMix.apply(self.value(x), self.gate, self.decay))


class SequenceRegressor(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.embed = nn.Linear(3, dim)
        self.blocks = nn.Sequential(MixerBlock(dim), MixerBlock(dim))
        self.head = nn.Linear(dim, 1)

    def forward(self, x):
        return self.head(self.blocks(self.embed(x))).squeeze(-1)


def main():
    torch.manual_seed(0)
    x, y = torch.randn(16, 6, 3), torch.randn(16, 6)
    model = SequenceRegressor()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=8):
        optimizer.zero_grad()
        loss = F.mse_loss(compiled(xb), yb)
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
