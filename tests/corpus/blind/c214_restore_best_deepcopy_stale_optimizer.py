import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ForecastNet(nn.Module):
    """GRU encoder + linear decoder for one-step-ahead forecasting."""

    def __init__(self, n_features=3, hidden=16):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, 1)

    def forward(self, window):
        _, h = self.gru(window)
        return self.decoder(h[-1]).squeeze(-1)


def run_epoch(model, loader, optimizer=None):
    training = optimizer is not None
    model.train(training)
    total = 0.0
    with torch.set_grad_enabled(training):
        for window, target in loader:
            loss = F.mse_loss(model(window), target)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item() * len(target)
    return total / len(loader.dataset)


def main():
    torch.manual_seed(0)
    series = torch.randn(80, 9, 3).cumsum(1)
    target = series[:, -1, 0] + 0.1 * torch.randn(80)
    train_loader = DataLoader(TensorDataset(series[:64, :-1], target[:64]), batch_size=16, shuffle=True)
    val_loader = DataLoader(TensorDataset(series[64:, :-1], target[64:]), batch_size=16)

    model = ForecastNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    best_val, best_model = float("inf"), None
    for epoch in range(2):
        run_epoch(model, train_loader, optimizer)
        val = run_epoch(model, val_loader)
        if val < best_val:
            best_val, best_model = val, copy.deepcopy(model)

    # stage 2: continue from the best checkpoint with a lower learning rate
    model = copy.deepcopy(best_model)
    for group in optimizer.param_groups:
        group["lr"] = 1e-3
    before = model.decoder.weight.detach().clone()
    for epoch in range(2):
        run_epoch(model, train_loader, optimizer)
    return {"model": model}, {"stage2_changed": not torch.equal(before, model.decoder.weight.detach())}

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
