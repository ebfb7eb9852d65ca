import torch
import torch.nn as nn
import torch.nn.functional as F


class LoadForecaster(nn.Module):
    def __init__(self, n_features=4, hidden=24, layers=2):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.head(out).squeeze(-1), state


def detach_state(state):
    return tuple(s.detach() for s in state)


def make_stream(batch=4, length=120, n_features=4):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(length, dtype=torch.float32)
    base = torch.sin(2 * torch.pi * t / 24)[None, :, None]
    x = base + 0.1 * torch.randn(batch, length, n_features, generator=g)
    y = torch.roll(x[..., 0], shifts=-1, dims=1)
    return x, y


def train_tbptt(model, x, y, optimizer, chunk=20, epochs=2):
    for _ in range(epochs):
        state = None
        running = 0.0
        for start in range(0, x.shape[1] - chunk + 1, chunk):
            xb, yb = x[:, start:start + chunk], y[:, start:start + chunk]
            pred, state = model(xb, state)
            loss = F.mse_loss(pred, yb)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            state = detach_state(state)
            running += loss.item()
    return running


def main():
    torch.manual_seed(0)
    model = LoadForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    x, y = make_stream()
    before = model.lstm.weight_hh_l0.detach().clone()
    train_tbptt(model, x, y, optimizer)
    return {"model": model}, {"lstm_changed": not torch.equal(before, model.lstm.weight_hh_l0)}

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
