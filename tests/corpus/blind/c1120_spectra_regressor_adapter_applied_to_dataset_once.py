import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SpectraRegressor(nn.Module):
    def __init__(self, n_bins=32, ch=4):
        super().__init__()
        self.adapter = nn.Conv1d(1, ch, kernel_size=5, padding=2)  # learnable smoothing / baseline removal
        self.head = nn.Sequential(nn.Linear(ch * n_bins, 32), nn.ReLU(), nn.Linear(32, 1))

    def featurize(self, spectra):
        return F.relu(self.adapter(spectra.unsqueeze(1))).flatten(1)

    def forward(self, features):
        return self.head(features).squeeze(-1)


def build_loader(model, spectra, targets, batch_size=16):
    features = model.featurize(spectra)
    return DataLoader(TensorDataset(features, targets), batch_size=batch_size, shuffle=True)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for features, y in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(features), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    spectra = torch.randn(64, 32).cumsum(dim=1)
    targets = spectra[:, 10:14].mean(dim=1)
    model = SpectraRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = build_loader(model, spectra, targets)
    train(model, loader, optimizer)
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
