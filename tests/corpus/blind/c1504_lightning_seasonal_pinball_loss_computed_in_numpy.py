import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class SeasonalPinballLoss:
    """Multi-quantile pinball loss, scaled by the seasonal naive error of each series (as in MASE)."""

    def __init__(self, quantiles=(0.1, 0.5, 0.9), season=4):
        self.quantiles = np.asarray(quantiles, dtype=np.float32)
        self.season = season

    def seasonal_scale(self, history):
        diffs = np.abs(history[:, self.season:] - history[:, :-self.season])
        return diffs.mean(axis=1, keepdims=True) + 1e-3

    def __call__(self, y_pred, y_true, history):
        pred = y_pred.detach().cpu().numpy()
        errors = y_true.cpu().numpy()[..., None] - pred
        pinball = np.maximum(self.quantiles * errors, (self.quantiles - 1) * errors).mean(axis=-1)
        scaled = pinball / self.seasonal_scale(history.cpu().numpy())
        return torch.as_tensor(scaled.mean(), dtype=torch.float32)


class QuantileMLPForecaster(nn.Module):
    def __init__(self, context=16, horizon=4, n_quantiles=3):
        super().__init__()
        self.horizon, self.n_quantiles = horizon, n_quantiles
        self.net = nn.Sequential(nn.Linear(context, 32), nn.ReLU(), nn.Linear(32, horizon * n_quantiles))

    def forward(self, history):
        return self.net(history).view(-1, self.horizon, self.n_quantiles)


class ForecastModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = QuantileMLPForecaster()
        self.loss_fn = SeasonalPinballLoss()

    def training_step(self, batch, batch_idx):
        history, future = batch
        loss = self.loss_fn(self.model(history), future, history)
        self.log("train_pinball", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.95), "interval": "epoch"}}


def make_series(n=40, context=16, horizon=4):
    g = torch.Generator().manual_seed(43)
    t = torch.arange(context + horizon, dtype=torch.float32)
    phase = torch.rand(n, 1, generator=g) * 6.28
    series = torch.sin(t * 1.57 + phase) + 0.1 * torch.randn(n, context + horizon, generator=g)
    return DataLoader(TensorDataset(series[:, :context], series[:, context:]), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(43)
    module = ForecastModule()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, make_series())
    return {"model": module.model}

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
