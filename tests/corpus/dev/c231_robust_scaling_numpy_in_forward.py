import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RobustScale(nn.Module):
    """Clip activations to the batch's [1st, 99th] percentile and rescale to unit range."""

    def forward(self, h):
        arr = h.detach().cpu().numpy()
        lo, hi = np.percentile(arr, [1, 99], axis=0, keepdims=True)
        scaled = (np.clip(arr, lo, hi) - lo) / (hi - lo + 1e-6)
        return torch.from_numpy(scaled.astype(np.float32)).to(h.device)


class SensorAnomalyNet(nn.Module):
    def __init__(self, n_sensors=12, hidden=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_sensors, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.scale = RobustScale()
        self.decoder = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_sensors))

    def forward(self, x):
        return self.decoder(self.scale(self.encoder(x)))


def train(model, loader, optimizer, epochs=3):
    model.train()
    for _ in range(epochs):
        for (x,) in loader:
            loss = F.mse_loss(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    readings = torch.randn(64, 12) @ torch.randn(12, 12) * 0.3
    model = SensorAnomalyNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, DataLoader(TensorDataset(readings), batch_size=16, shuffle=True), optimizer)
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
