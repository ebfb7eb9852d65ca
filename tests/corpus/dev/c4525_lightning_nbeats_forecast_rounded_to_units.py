import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

HPARAMS = {
    "backcast": 14, "forecast": 7, "stacks": 2, "blocks_per_stack": 2, "units": 32, "theta": 8,
    "lr": 1e-3, "epochs": 2,
}


class GenericBlock(nn.Module):
    """N-BEATS generic block: FC stack -> expansion coefficients -> linear backcast / forecast bases."""

    def __init__(self, backcast, forecast, units, theta):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(backcast, units), nn.ReLU(), nn.Linear(units, units), nn.ReLU(),
                                nn.Linear(units, units), nn.ReLU())
        self.theta_b = nn.Linear(units, theta, bias=False)
        self.theta_f = nn.Linear(units, theta, bias=False)
        self.backcast_basis = nn.Linear(theta, backcast)
        self.forecast_basis = nn.Linear(theta, forecast)

    def forward(self, x):
        h = self.fc(x)
        return self.backcast_basis(self.theta_b(h)), self.forecast_basis(self.theta_f(h))


class NBeats(nn.Module):
    def __init__(self, hp):
        super().__init__()
        n = hp["stacks"] * hp["blocks_per_stack"]
        self.blocks = nn.ModuleList([GenericBlock(hp["backcast"], hp["forecast"], hp["units"], hp["theta"])
                                     for _ in range(n)])

    def forward(self, x):
        residual, forecast = x, 0.0
        for block in self.blocks:
            b, f = block(residual)
            residual = residual - b
            forecast = forecast + f
        return forecast


def to_units(y):
    """Store demand is sold in whole units and never negative."""
    return torch.round(F.relu(y))


class DemandForecaster(pl.LightningModule):
    def __init__(self, hp):
        super().__init__()
        self.hp = hp
        self.model = NBeats(hp)

    def forward(self, x):
        scale = x.mean(dim=1, keepdim=True).clamp(min=1.0)
        return self.model(x / scale) * scale

    def training_step(self, batch, batch_idx):
        history, future = batch
        units = to_units(self(history))
        loss = F.l1_loss(units, future)
        self.log("train/mae_units", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        history, future = batch
        self.log("val/mae_units", F.l1_loss(to_units(self(history)), future).item())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hp["lr"])


def retail_series(hp, n=32):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(hp["backcast"] + hp["forecast"]).float()
    level = 5 + 10 * torch.rand(n, 1, generator=g)
    weekly = 1 + 0.4 * torch.sin(2 * torch.pi * t / 7)
    sales = torch.poisson(level * weekly, generator=g)
    history, future = sales[:, : hp["backcast"]], sales[:, hp["backcast"]:]
    return DataLoader(TensorDataset(history, future), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = DemandForecaster(HPARAMS)
    fc0 = module.model.blocks[0].fc[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=HPARAMS["epochs"], logger=False, enable_checkpointing=False,
                         limit_val_batches=1)
    loader = retail_series(HPARAMS)
    trainer.fit(module, loader, loader)
    return {"module": module}, {"blocks_changed": not torch.equal(fc0, module.model.blocks[0].fc[0].weight)}

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
