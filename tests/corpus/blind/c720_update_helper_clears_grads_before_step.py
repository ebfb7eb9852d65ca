import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class HousingRegressor(nn.Module):
    def __init__(self, in_dim=8, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def apply_update(model, optimizer, scheduler, max_norm=1.0):
    """Clip, reset the accumulators for the next batch, step the optimizer and the LR schedule."""
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.zero_grad()
    optimizer.step()
    scheduler.step()
    return float(grad_norm)


def train_one_epoch(model, loader, optimizer, scheduler, criterion):
    model.train()
    norms = []
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        norms.append(apply_update(model, optimizer, scheduler))
    return norms


def make_loader(n=128, in_dim=8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, in_dim, generator=g)
    y = x @ torch.linspace(-1, 1, in_dim) + 0.1 * torch.randn(n, generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = HousingRegressor()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    loader = make_loader()
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=2 * len(loader))
    for _ in range(2):
        norms = train_one_epoch(model, loader, optimizer, scheduler, nn.SmoothL1Loss())
    changed = any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    return {"model": model}, {"weights_changed": changed, "last_grad_norm_positive": norms[-1] > 0}

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
