import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class EMACallback(pl.Callback):
    """Keeps an exponential moving average of the weights and evaluates with it (weights swapped in place)."""

    def __init__(self, val_batch, decay=0.9):
        self.val_batch = val_batch
        self.decay = decay
        self.ema = None
        self.backup = None
        self.val_history = []

    def on_fit_start(self, trainer, pl_module):
        self.ema = [p.detach().clone() for p in pl_module.parameters()]

    @torch.no_grad()
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        for ema_p, p in zip(self.ema, pl_module.parameters()):
            ema_p.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)

    @torch.no_grad()
    def swap_in(self, pl_module):
        self.backup = [p.detach().clone() for p in pl_module.parameters()]
        for ema_p, p in zip(self.ema, pl_module.parameters()):
            p.copy_(ema_p)

    @torch.no_grad()
    def swap_out(self, pl_module):
        for saved, p in zip(self.backup, pl_module.parameters()):
            p.copy_(saved)
        self.backup = None

    @torch.no_grad()
    def on_train_epoch_end(self, trainer, pl_module):
        self.swap_in(pl_module)
        x, y = self.val_batch
        self.val_history.append(float(F.mse_loss(pl_module(x), y)))
        self.swap_out(pl_module)


class ForecastModule(pl.LightningModule):
    def __init__(self, window=8, hidden=16, lr=1e-2):
        super().__init__()
        self.encoder = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.lr = lr

    def forward(self, x):
        _, h = self.encoder(x.unsqueeze(-1))
        return self.head(h[-1]).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train/mse", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/mse", F.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_series(n=48, window=8):
    t = torch.arange(n + window + 1).float()
    series = torch.sin(0.4 * t) + 0.05 * torch.randn(len(t))
    x = torch.stack([series[i:i + window] for i in range(n)])
    y = torch.stack([series[i + window] for i in range(n)])
    return TensorDataset(x, y)


def main():
    pl.seed_everything(0)
    ds = make_series()
    module = ForecastModule()
    head_before = module.head[0].weight.detach().clone()
    ema = EMACallback(val_batch=ds[:16], decay=0.9)
    trainer = pl.Trainer(max_epochs=2, logger=False, callbacks=[ema])
    trainer.fit(module, DataLoader(ds, batch_size=12, shuffle=True), DataLoader(ds, batch_size=24))
    facts = {"head_changed": not torch.equal(head_before, module.head[0].weight),
             "ema_differs_from_live": not torch.equal(ema.ema[-2], module.head[2].weight.detach()),
             "restored_after_validation": ema.backup is None, "ema_evaluations": len(ema.val_history)}
    return {"model": module}, facts

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
