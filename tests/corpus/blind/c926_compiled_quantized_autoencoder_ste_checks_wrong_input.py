import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RoundSTE(torch.autograd.Function):
    """Quantise to `levels` uniform steps in [-1, 1]; clipped straight-through gradient."""

    @staticmethod
    def forward(ctx, x, levels):
        ctx.save_for_backward(x)
        half = (levels - 1) / 2
        return torch.round(x.clamp(-1, 1) * half) / half

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_x = None
        if ctx.needs_input_grad[1]:
            grad_x = grad_output * (x.abs() <= 1).to(grad_output.dtype)
        return grad_x, None


class QuantizedAutoencoder(nn.Module):
    def __init__(self, d_in=32, d_latent=8, levels=5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, d_latent), nn.Tanh())
        self.decoder = nn.Sequential(nn.Linear(d_latent, 64), nn.ReLU(), nn.Linear(64, d_in))
        self.levels = levels

    def forward(self, x):
        z = RoundSTE.apply(self.encoder(x), self.levels)
        return self.decoder(z)


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for (x,) in loader:
            loss = F.mse_loss(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(48, 4, generator=g) @ torch.randn(4, 32, generator=g)
    loader = DataLoader(TensorDataset(data), batch_size=24, shuffle=True, generator=g)
    net = QuantizedAutoencoder()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    train(model, loader, optimizer)
    return {"net": net}

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
