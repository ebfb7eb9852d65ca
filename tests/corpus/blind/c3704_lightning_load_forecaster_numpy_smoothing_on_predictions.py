import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def moving_average(series, window=3):
    """Smooth each forecast trajectory before scoring it (reduces spiky multi-step forecasts)."""
    kernel = np.ones(window) / window
    return np.apply_along_axis(lambda s: np.convolve(s, kernel, mode="same"), -1, series)


class LoadForecaster(pl.LightningModule):
    def __init__(self, context=12, horizon=6, hidden=16):
        super().__init__()
        self.encoder = nn.GRU(1, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, horizon)

    def forward(self, past):
        _, h = self.encoder(past.unsqueeze(-1))
        return self.decoder(h[-1])

    def training_step(self, batch, batch_idx):
        past, future = batch
        pred = self(past)
        smoothed = torch.as_tensor(moving_average(pred.numpy()), dtype=pred.dtype)
        loss = F.l1_loss(smoothed, future) + 0.1 * F.mse_loss(pred[:, 0], future[:, 0])
        self.log("train_mae", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-2)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)]


def make_windows(n=32, context=12, horizon=6):
    t = torch.arange(n + context + horizon, dtype=torch.float32)
    series = torch.sin(t / 3.0) + 0.1 * torch.randn_like(t)
    past = torch.stack([series[i:i + context] for i in range(n)])
    future = torch.stack([series[i + context:i + context + horizon] for i in range(n)])
    return DataLoader(TensorDataset(past, future), batch_size=8, shuffle=True)


def main():
    pl.seed_everything(0)
    model = LoadForecaster()
    pl.Trainer(max_epochs=1, logger=False).fit(model, make_windows())
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
