import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WeatherNet(nn.Module):
    def __init__(self, n_feats=8, dim=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_feats, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())
        self.temp_head = nn.Linear(dim, 1)
        self.rain_head = nn.Linear(dim, 1)

    def forward(self, x):
        h = self.encoder(x)
        return self.temp_head(h).squeeze(-1), self.rain_head(h).squeeze(-1)


def run_epoch(model, loader, optimizer, phase):
    model.train() if phase == "train" else model.eval()
    total = 0.0
    for x, temp, rain in loader:
        with torch.set_grad_enabled(phase == "train"):
            pred_temp, rain_logit = model(x)
            loss = F.mse_loss(pred_temp, temp) + F.binary_cross_entropy_with_logits(rain_logit, rain)
            if phase == "train":
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        total += loss.item() * x.size(0)
    return total / len(loader.dataset)


def main():
    torch.manual_seed(0)
    x = torch.randn(80, 8)
    temp = x[:, 0] * 3 + x[:, 1]
    rain = (x[:, 2] > 0.3).float()
    loaders = {"train": DataLoader(TensorDataset(x[:64], temp[:64], rain[:64]), batch_size=16, shuffle=True),
               "val": DataLoader(TensorDataset(x[64:], temp[64:], rain[64:]), batch_size=16)}
    net = WeatherNet()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    history = {"train": [], "val": []}
    for _ in range(2):
        for phase in ("train", "val"):
            history[phase].append(run_epoch(model, loaders[phase], optimizer, phase))
    return {"model": net}, {"epochs_run": len(history["train"]), "grad_mode_restored": torch.is_grad_enabled()}

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
