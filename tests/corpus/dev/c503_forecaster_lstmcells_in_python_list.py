import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class StackedCellEncoder(nn.Module):
    """Multi-layer LSTM unrolled by hand so that per-step dropout / peeking at states is easy."""

    def __init__(self, n_features, hidden, n_layers=2, dropout=0.1):
        super().__init__()
        self.input_proj = nn.Linear(n_features, hidden)
        self.cells = [nn.LSTMCell(hidden, hidden) for _ in range(n_layers)]
        self.dropout = nn.Dropout(dropout)
        self.hidden = hidden

    def forward(self, x):
        batch, steps, _ = x.shape
        h = [x.new_zeros(batch, self.hidden) for _ in self.cells]
        c = [x.new_zeros(batch, self.hidden) for _ in self.cells]
        for t in range(steps):
            inp = torch.relu(self.input_proj(x[:, t]))
            for i, cell in enumerate(self.cells):
                h[i], c[i] = cell(inp, (h[i], c[i]))
                inp = self.dropout(h[i])
        return h[-1]


class Forecaster(nn.Module):
    def __init__(self, n_features=3, hidden=32, horizon=4):
        super().__init__()
        self.encoder = StackedCellEncoder(n_features, hidden)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x):
        return self.head(self.encoder(x))


def make_windows(n=96, steps=12, horizon=4):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(n + steps + horizon, dtype=torch.float32)
    series = torch.stack([torch.sin(t / 5), torch.cos(t / 7), 0.1 * torch.randn(t.shape, generator=g)], dim=-1)
    x = torch.stack([series[i:i + steps] for i in range(n)])
    y = torch.stack([series[i + steps:i + steps + horizon, 0] for i in range(n)])
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.smooth_l1_loss(model(x), y)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = Forecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    cell = model.encoder.cells[0]
    before = cell.weight_hh.detach().clone()
    train(model, make_windows(), optimizer, scheduler)
    in_params = any(p is cell.weight_hh for p in model.parameters())
    return ({"model": model, "cell0_weight_hh": cell.weight_hh},
            {"cells_changed": not torch.equal(before, cell.weight_hh), "cells_in_model_parameters": in_params})

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
