import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SoftThreshold(nn.Module):
    """Learned shrinkage for sparse coding (LISTA): sign(x) * relu(|x| - theta)."""

    def __init__(self, n, dtype=torch.float32):
        super().__init__()
        self.theta = nn.Parameter(torch.full((n,), 0.1)).to(dtype)

    def forward(self, x):
        return torch.sign(x) * F.relu(x.abs() - self.theta)


class LISTA(nn.Module):
    def __init__(self, m=12, n=24, n_iter=3, dtype=torch.float64):
        super().__init__()
        self.We = nn.Linear(m, n, bias=False).to(dtype)
        self.S = nn.Linear(n, n, bias=False).to(dtype)
        self.shrink = SoftThreshold(n, dtype=dtype)
        self.n_iter = n_iter

    def forward(self, y):
        b = self.We(y)
        z = self.shrink(b)
        for _ in range(self.n_iter):
            z = self.shrink(b + self.S(z))
        return z


def make_problem(n_samples=64, m=12, n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(m, n, generator=g, dtype=torch.float64) / m ** 0.5
    z = torch.randn(n_samples, n, generator=g, dtype=torch.float64) * (torch.rand(n_samples, n, generator=g) < 0.2)
    return D, z @ D.T, z


def main():
    set_seed(0)
    D, y, z = make_problem()
    model = LISTA()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    accelerator = Accelerator()
    loader = DataLoader(TensorDataset(y, z), batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    theta0 = model.shrink.theta.detach().clone()
    for _ in range(2):
        for y_b, z_b in loader:
            optimizer.zero_grad()
            accelerator.backward(F.mse_loss(model(y_b), z_b))
            optimizer.step()
    return {"model": model, "theta": model.shrink.theta}, {
        "theta_changed": not torch.equal(theta0, model.shrink.theta),
        "theta_registered": "shrink.theta" in dict(model.named_parameters()),
        "theta_is_leaf": model.shrink.theta.is_leaf}

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
