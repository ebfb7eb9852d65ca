import torch


def init_quantizer_scales(weights):
    """One learnable (negative, positive) scale pair per layer, as in trained ternary quantization."""
    return [torch.ones(2, requires_grad=True) for _ in weights]


def to_device(tensors, device, dtype):
    return [t.to(device=device, dtype=dtype) for t in tensors]


def ternarize(w, scales, threshold=0.05):
    pos = (w > threshold).to(w.dtype)
    neg = (w < -threshold).to(w.dtype)
    return scales[1] * pos - scales[0] * neg


def main():
    torch.manual_seed(0)
    device = torch.device("cpu")
    layer_weights = [torch.randn(8, 8) * 0.1 for _ in range(3)]
    scales = to_device(init_quantizer_scales(layer_weights), device, torch.float64)
    optimizer = torch.optim.SGD(scales, lr=0.1)
    x = torch.randn(4, 8, dtype=torch.float64)
    for _ in range(3):
        h = x
        for w, s in zip(layer_weights, scales):
            h = torch.tanh(h @ ternarize(w.double(), s))
        loss = h.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"scale_0": scales[0]}

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
