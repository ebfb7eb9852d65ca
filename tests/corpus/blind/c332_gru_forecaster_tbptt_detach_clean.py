import torch
import torch.nn as nn
import torch.nn.functional as F


class Forecaster(nn.Module):
    def __init__(self, n_features=3, hidden=24):
        super().__init__()
        self.inp = nn.Linear(n_features, hidden)
        self.gru = nn.GRU(hidden, hidden, num_layers=2, batch_first=True)
        self.out = nn.Linear(hidden, n_features)

    def forward(self, x, h=None):
        y, h = self.gru(torch.tanh(self.inp(x)), h)
        return self.out(y), h


def repackage(h):
    return h.detach() if isinstance(h, torch.Tensor) else tuple(repackage(v) for v in h)


def make_series(n_series=4, length=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length).float()
    phase = torch.rand(n_series, 1, generator=g) * 6.28
    base = torch.sin(t / 8 + phase)
    return torch.stack([base, torch.cos(t / 5 + phase), base * 0.5], dim=-1) + 0.05 * torch.randn(n_series, length, 3, generator=g)


def train_epoch(model, series, optimizer, window=16):
    model.train()
    h = None
    for i in range(0, series.size(1) - window - 1, window):
        x, target = series[:, i:i + window], series[:, i + 1:i + window + 1]
        h = repackage(h) if h is not None else None
        pred, h = model(x, h)
        loss = F.mse_loss(pred, target)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()


@torch.no_grad()
def evaluate(model, series, window=16):
    model.eval()
    pred, _ = model(series[:, :-1])
    return F.mse_loss(pred, series[:, 1:]).item()


def main():
    torch.manual_seed(0)
    series = make_series()
    model = Forecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    gru_before = model.gru.weight_hh_l0.detach().clone()
    for epoch in range(2):
        train_epoch(model, series, optimizer)
        evaluate(model, series)
    facts = {"gru_changed": not torch.equal(gru_before, model.gru.weight_hh_l0.detach())}
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
