import torch
import torch.nn as nn
import torch.nn.functional as F


class BinarizeSTE(torch.autograd.Function):
    """sign() forward, straight-through (clipped identity) backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (x.abs() <= 1).to(grad_output.dtype)


class BinaryHashNet(nn.Module):
    """Learns binary codes for retrieval: encoder -> sign -> decoder reconstructs the input."""

    def __init__(self, in_dim=16, bits=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, bits))
        self.decoder = nn.Linear(bits, in_dim)

    def forward(self, x):
        codes = BinarizeSTE.apply(self.encoder(x))
        return self.decoder(codes), codes


def encoder_grad(model, x, scale):
    model.zero_grad()
    recon, _ = model(x)
    (scale * F.mse_loss(recon, x)).backward()
    return model.encoder[2].weight.grad.clone()


def main():
    torch.manual_seed(0)
    model = BinaryHashNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(32, 16)
    for _ in range(3):
        optimizer.zero_grad()
        recon, codes = model(x)
        loss = F.mse_loss(recon, x)
        loss.backward()
        optimizer.step()
    g1, g10 = encoder_grad(model, x, 1.0), encoder_grad(model, x, 10.0)
    facts = {"encoder_grad_scales_with_loss": bool(torch.allclose(g10, 10 * g1, rtol=1e-4, atol=1e-6))}
    return {"model": model}, facts

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
