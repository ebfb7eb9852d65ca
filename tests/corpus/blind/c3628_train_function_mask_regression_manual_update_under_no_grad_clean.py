import torch
from torch.utils.data import DataLoader, TensorDataset


def init_params(n_freq=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    weights = torch.randn(n_freq, n_freq, generator=g).mul_(0.1).requires_grad_()
    bias = torch.zeros(n_freq, requires_grad=True)
    return weights, bias


def predict_mask(mix_mag, weights, bias):
    return torch.sigmoid(mix_mag @ weights + bias)


def gradient_descent_step(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def train(loader, weights, bias, lr=0.5, epochs=3):
    losses = []
    for _ in range(epochs):
        for mix, vocals in loader:
            est = predict_mask(mix, weights, bias) * mix
            loss = torch.mean((est - vocals) ** 2)
            loss.backward()
            gradient_descent_step([weights, bias], lr)
            losses.append(loss.item())
    return losses


def main():
    torch.manual_seed(0)
    vocals = torch.rand(32, 8)
    mix = vocals + 0.5 * torch.rand(32, 8)
    loader = DataLoader(TensorDataset(mix, vocals), batch_size=8, shuffle=True)
    weights, bias = init_params()
    w0 = weights.detach().clone()
    losses = train(loader, weights, bias)
    est = predict_mask(mix, weights, bias) * mix
    loss = torch.mean((est - vocals) ** 2)
    loss.backward()
    return {"weights": weights, "bias": bias}, {
        "weights_changed": not torch.equal(w0, weights),
        "loss_decreased": losses[-1] < losses[0],
        "weights_still_leaf": weights.is_leaf,
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
