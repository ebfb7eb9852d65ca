import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

QUANTILES = (0.1, 0.5, 0.9)


class TemporalConvBlock(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.norm = nn.BatchNorm1d(channels)

    def forward(self, x):
        return x + torch.relu(self.norm(self.conv(x)))


class QuantileTCN(pl.LightningModule):
    def __init__(self, n_feat=3, channels=16, horizon=6, lr=3e-3):
        super().__init__()
        self.inp = nn.Conv1d(n_feat, channels, 1)
        self.blocks = nn.Sequential(*[TemporalConvBlock(channels, d) for d in (1, 2, 4)])
        self.head = nn.Linear(channels, horizon * len(QUANTILES))
        self.horizon, self.lr = horizon, lr

    def forward(self, x):
        h = self.blocks(self.inp(x.transpose(1, 2)))
        return self.head(h[:, :, -1]).view(-1, self.horizon, len(QUANTILES))

    @staticmethod
    def pinball(pred, target):
        pred_np = pred.detach().cpu().numpy()
        target_np = target.cpu().numpy()[..., None]
        q = np.asarray(QUANTILES)
        err = target_np - pred_np
        loss = np.maximum(q * err, (q - 1) * err).mean()
        return torch.as_tensor(loss, dtype=torch.float32, device=pred.device)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.pinball(self(x), y)
        self.log("train/pinball", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/pinball", self.pinball(self(x), y))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def demand_windows(n=48, lookback=24, horizon=6):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(lookback + horizon).float()
    level = 5 + torch.rand(n, 1, generator=g) * 3
    series = level + torch.sin(t / 3) + 0.4 * torch.randn(n, lookback + horizon, generator=g)
    promo = (torch.rand(n, lookback, generator=g) > 0.8).float()
    x = torch.stack([series[:, :lookback], promo, torch.sin(t[:lookback] / 3).expand(n, -1)], -1)
    return TensorDataset(x, series[:, lookback:])


def main():
    pl.seed_everything(0)
    model = QuantileTCN()
    ds = demand_windows()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(ds, batch_size=12, shuffle=True))
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
