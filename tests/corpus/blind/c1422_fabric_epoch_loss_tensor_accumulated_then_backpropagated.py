import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DemandForecaster(nn.Module):
    def __init__(self, window=12, hidden=24, horizon=3):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, history):
        _, h = self.gru(history.unsqueeze(-1))
        return self.head(h[-1])


def make_windows(n=40, window=12, horizon=3):
    g = torch.Generator().manual_seed(23)
    t = torch.arange(n + window + horizon, dtype=torch.float32)
    series = torch.sin(t / 3) + 0.1 * torch.randn(t.shape, generator=g)
    xs = torch.stack([series[i:i + window] for i in range(n)])
    ys = torch.stack([series[i + window:i + window + horizon] for i in range(n)])
    return TensorDataset(xs, ys)


def train(fabric, model, loader, optimizer, epochs=2):
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            running_loss += loss
            optimizer.zero_grad()
            fabric.backward(running_loss)
            optimizer.step()
        history.append(float(running_loss) / len(loader))
    return history


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = DemandForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(make_windows(), batch_size=8, shuffle=True))
    train(fabric, model, loader, optimizer)
    return {"model": model.module}

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
