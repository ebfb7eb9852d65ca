import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@torch.no_grad()
def smape(pred, target):
    return (2 * (pred - target).abs() / (pred.abs() + target.abs() + 1e-6)).mean()


class GRUForecaster(pl.LightningModule):
    def __init__(self, hidden=24, horizon=4):
        super().__init__()
        self.encoder = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, history):
        _, h = self.encoder(history.unsqueeze(-1))
        return self.head(h[-1])

    def training_step(self, batch, batch_idx):
        history, future = batch
        pred = self(history)
        loss = F.l1_loss(pred, future)
        self.log("train_smape", smape(pred, future))
        return loss

    def validation_step(self, batch, batch_idx):
        history, future = batch
        self.log("val_smape", smape(self(history), future))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=5e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)}


def make_windows(n=64, hist=12, horizon=4):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(hist + horizon).float()
    phase = torch.rand(n, 1, generator=g) * 6.28
    series = torch.sin(t[None, :] * 0.5 + phase) + 0.05 * torch.randn(n, hist + horizon, generator=g)
    return series[:, :hist], series[:, hist:]


def main():
    pl.seed_everything(0)
    history, future = make_windows()
    train_loader = DataLoader(TensorDataset(history[:48], future[:48]), batch_size=16, shuffle=True)
    val_loader = DataLoader(TensorDataset(history[48:], future[48:]), batch_size=16)
    model = GRUForecaster()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_loader, val_loader)
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
