import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ForecastNet(nn.Module):
    def __init__(self, window=12, horizon=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(window, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, horizon))

    def forward(self, x):
        return self.net(x)


def make_ema(model):
    ema = copy.deepcopy(model)
    ema.requires_grad_(False)
    return ema


def update_ema(ema, model, decay=0.9):
    with torch.no_grad():
        for ema_p, p in zip(ema.parameters(), model.parameters()):
            ema_p.lerp_(p, 1.0 - decay)


def evaluate(ema, loader):
    ema.eval()
    with torch.no_grad():
        return sum(F.mse_loss(ema(x), y).item() for x, y in loader) / len(loader)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    g = torch.Generator().manual_seed(0)
    series = torch.cumsum(torch.randn(80, 15, generator=g), dim=1)
    loader = DataLoader(TensorDataset(series[:, :12], series[:, 12:]), batch_size=8, shuffle=True, generator=g)
    model = ForecastNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    ema = make_ema(model)
    w0 = model.net[0].weight.detach().clone()
    ema0 = ema.net[0].weight.detach().clone()
    for _ in range(2):
        model.train()
        for x, y in loader:
            with accelerator.accumulate(model):
                loss = F.mse_loss(model(x), y)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                update_ema(ema, model)
    val = evaluate(ema, loader)
    facts = {
        "model_changed": not torch.equal(w0, model.net[0].weight),
        "ema_changed": not torch.equal(ema0, ema.net[0].weight),
        "ema_differs_from_model": not torch.equal(ema.net[0].weight, model.net[0].weight),
        "val_loss_finite": math.isfinite(val),
    }
    return {"ema": ema}, facts

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
