import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class HeteroscedasticRegressor(nn.Module):
    """Predicts a mean and a log-variance per target; trained with the Gaussian NLL."""

    def __init__(self, d_in=8, hidden=32, n_targets=2, min_log_var=-6.0, max_log_var=4.0):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(d_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, 2 * n_targets)
        self.min_log_var, self.max_log_var = min_log_var, max_log_var

    def forward(self, x):
        mean, log_var = self.out(self.trunk(x)).chunk(2, dim=-1)
        log_var.clamp_(self.min_log_var, self.max_log_var)
        return mean, log_var


def gaussian_nll(mean, log_var, y):
    return 0.5 * (log_var + (y - mean) ** 2 / log_var.exp() + math.log(2 * math.pi)).mean()


def make_loader(n=64, bs=16):
    g = torch.Generator().manual_seed(24)
    x = torch.randn(n, 8, generator=g)
    noise = torch.randn(n, 2, generator=g) * (0.1 + x[:, :1].abs())
    y = torch.stack([x[:, 0] - x[:, 1], x[:, 2] * 0.5], dim=1) + noise
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = HeteroscedasticRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.5, total_iters=4)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    model.train()
    for _ in range(2):
        for x, y in loader:
            mean, log_var = model(x)
            loss = gaussian_nll(mean, log_var, y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
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
