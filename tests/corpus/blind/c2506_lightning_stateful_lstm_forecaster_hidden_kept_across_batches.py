import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class ContiguousWindows(Dataset):
    """Consecutive windows of one long load curve, served in order so state can be carried."""

    def __init__(self, length=400, window=20):
        t = torch.arange(length, dtype=torch.float32)
        self.series = torch.sin(t / 12.0) + 0.1 * torch.cos(t / 3.0)
        self.window = window

    def __len__(self):
        return (len(self.series) - 1) // self.window

    def __getitem__(self, i):
        s = i * self.window
        return self.series[s:s + self.window, None], self.series[s + 1:s + self.window + 1, None]


class LoadForecaster(pl.LightningModule):
    def __init__(self, hidden=16):
        super().__init__()
        self.input_proj = nn.Linear(1, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.state = None

    def reset_state(self):
        self.state = None

    def forward(self, x):
        out, self.state = self.lstm(self.input_proj(x), self.state)
        return self.head(out)

    def on_train_epoch_start(self):
        self.reset_state()

    def training_step(self, batch, batch_idx):
        x, y = batch
        pred = self(x)
        loss = F.smooth_l1_loss(pred, y)
        self.log("train_loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-2)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": sched}


def main():
    pl.seed_everything(0)
    model = LoadForecaster()
    loader = DataLoader(ContiguousWindows(), batch_size=1, shuffle=False)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
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
