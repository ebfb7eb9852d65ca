import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class ElmanEncoder(nn.Module):
    """Hand-rolled recurrent encoder (the project needed custom gating experiments later)."""

    def __init__(self, in_dim, hidden):
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Linear(in_dim, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x):
        batch, steps, _ = x.shape
        states = x.new_zeros(batch, steps + 1, self.hidden)
        for t in range(steps):
            states[:, t + 1] = torch.tanh(self.inp(x[:, t]) + self.rec(states[:, t]))
        return states[:, 1:]


class LoadForecaster(nn.Module):
    def __init__(self, in_dim=4, hidden=16, horizon=1):
        super().__init__()
        self.encoder = ElmanEncoder(in_dim, hidden)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x):
        states = self.encoder(x)
        return self.head(states[:, -1])


def make_windows(n_series=64, steps=12, in_dim=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 6.28, steps + 1)
    phase = torch.rand(n_series, 1, generator=g) * 6.28
    base = torch.sin(t.unsqueeze(0) + phase)
    feats = torch.stack([base[:, :-1]] + [0.1 * torch.randn(n_series, steps, generator=g)
                                         for _ in range(in_dim - 1)], dim=-1)
    target = base[:, -1:].clone()
    return TensorDataset(feats, target)


def train(model, loader, optimizer, scheduler, epochs=2):
    criterion = nn.MSELoss()
    model.train()
    history = []
    for _ in range(epochs):
        running = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            running += loss.item()
        scheduler.step()
        history.append(running / len(loader))
    return history


def main():
    torch.manual_seed(0)
    model = LoadForecaster()
    loader = DataLoader(make_windows(), batch_size=16, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    train(model, loader, optimizer, scheduler)
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
