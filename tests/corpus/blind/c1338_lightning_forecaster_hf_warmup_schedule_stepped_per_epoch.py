import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from transformers import get_linear_schedule_with_warmup


class LSTMForecaster(pl.LightningModule):
    def __init__(self, n_features=4, hidden=16, horizon=3, lr=3e-3):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, horizon)
        self.lr = lr

    def forward(self, history):
        out, _ = self.lstm(history)
        return self.head(out[:, -1])

    def training_step(self, batch, batch_idx):
        history, future = batch
        loss = F.smooth_l1_loss(self(history), future)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr)
        scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=20, num_training_steps=200)
        return [optimizer], [scheduler]


class FirstEpochProbe(pl.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == 0:
            self.lr = trainer.optimizers[0].param_groups[0]["lr"]
            self.head_after_epoch0 = pl_module.head.weight.detach().clone()


def make_loader():
    g = torch.Generator().manual_seed(36)
    series = torch.cumsum(torch.randn(40, 15, 4, generator=g), dim=1)
    return DataLoader(TensorDataset(series[:, :12], series[:, 12:, 0]), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = LSTMForecaster()
    probe = FirstEpochProbe()
    head0 = model.head.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[probe]).fit(model, make_loader())
    return {"model": model}, {"lr_in_first_epoch": probe.lr,
                              "head_changed_in_first_epoch": not torch.equal(head0, probe.head_after_epoch0)}

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
