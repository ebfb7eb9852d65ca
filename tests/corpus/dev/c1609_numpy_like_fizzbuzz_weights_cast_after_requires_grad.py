import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

DTYPE = torch.float32


def binary_encode(i, num_digits=10):
    return np.array([i >> d & 1 for d in range(num_digits)])


def fizz_buzz_encode(i):
    if i % 15 == 0:
        return 3
    if i % 5 == 0:
        return 2
    if i % 3 == 0:
        return 1
    return 0


def make_loader(lo=101, hi=301, batch_size=40):
    x = torch.from_numpy(np.stack([binary_encode(i) for i in range(lo, hi)])).to(DTYPE)
    y = torch.tensor([fizz_buzz_encode(i) for i in range(lo, hi)])
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(0))


def init_params(in_dim, hidden, out_dim, rng):
    """He-initialised weights drawn with NumPy, as in the book's numpy-like network."""
    w1 = torch.from_numpy(rng.standard_normal((in_dim, hidden)) * np.sqrt(2.0 / in_dim)).requires_grad_(True).to(DTYPE)
    b1 = torch.zeros(hidden, dtype=DTYPE, requires_grad=True)
    w2 = torch.from_numpy(rng.standard_normal((hidden, out_dim)) * np.sqrt(2.0 / hidden)).requires_grad_(True).to(DTYPE)
    b2 = torch.zeros(out_dim, dtype=DTYPE, requires_grad=True)
    return [w1, b1, w2, b2]


def forward(params, x):
    w1, b1, w2, b2 = params
    return torch.relu(x @ w1 + b1) @ w2 + b2


def train(params, loader, optimizer, epochs=3):
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(forward(params, x), y)
            loss.backward()
            optimizer.step()
    return loss.item()


def main():
    rng = np.random.default_rng(0)
    params = init_params(10, 32, 4, rng)
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    final = train(params, make_loader(), optimizer)
    return {"w1": params[0], "b1": params[1]}, {"final_loss_finite": bool(np.isfinite(final))}

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
