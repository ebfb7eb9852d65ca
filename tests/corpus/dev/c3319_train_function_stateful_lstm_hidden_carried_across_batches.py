import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LoadForecaster(nn.Module):
    """Stateful LSTM for a long electricity-load series cut into consecutive windows."""

    def __init__(self, n_feat=4, hidden=32, layers=2, horizon=4):
        super().__init__()
        self.inp = nn.Linear(n_feat, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, horizon))

    def forward(self, x, state=None):
        out, state = self.lstm(F.gelu(self.inp(x)), state)
        return self.head(out[:, -1]), state


def consecutive_windows(total=400, window=20, horizon=4, batch=4):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(total + horizon).float()
    load = torch.sin(2 * 3.14159 * t / 48) + 0.3 * torch.sin(2 * 3.14159 * t / 7) + 0.05 * torch.randn(
        t.numel(), generator=g)
    calendar = torch.stack([torch.sin(t / 24), torch.cos(t / 24), (t % 7) / 7], dim=-1)
    feats = torch.cat([load[:, None], calendar], dim=-1)
    # batch lanes are contiguous streams so that state can be carried from window to window
    lanes = total // batch
    xs, ys = [], []
    for start in range(0, lanes - window - horizon, window):
        xs.append(torch.stack([feats[b * lanes + start: b * lanes + start + window] for b in range(batch)]))
        ys.append(torch.stack([load[b * lanes + start + window: b * lanes + start + window + horizon]
                               for b in range(batch)]))
    return TensorDataset(torch.stack(xs), torch.stack(ys))


def train(model, loader, optimizer, epochs=1, clip=1.0):
    history = []
    for epoch in range(epochs):
        model.train()
        state = None
        for x, y in loader:
            x, y = x.squeeze(0), y.squeeze(0)
            pred, state = model(x, state)
            loss = F.mse_loss(pred, y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            history.append(loss.item())
    return history


def main():
    torch.manual_seed(0)
    model = LoadForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(consecutive_windows(), batch_size=1, shuffle=False)
    losses = train(model, loader, optimizer)
    return {"model": model}, {"n_steps": len(losses)}

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
