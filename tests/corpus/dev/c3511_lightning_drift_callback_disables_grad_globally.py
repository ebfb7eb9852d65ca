import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class EmbeddingDriftMonitor(pl.Callback):
    """Tracks how far the encoder's embedding of a fixed probe batch moves between epochs."""

    def __init__(self, probe):
        self.probe = probe
        self.previous = None
        self.drift = []

    def on_train_epoch_start(self, trainer, pl_module):
        torch.set_grad_enabled(False)
        emb = F.normalize(pl_module.encoder(self.probe), dim=-1)
        if self.previous is not None:
            self.drift.append(float((emb - self.previous).norm(dim=-1).mean()))
        self.previous = emb


class SignalEncoder(nn.Module):
    def __init__(self, in_ch=2, width=16, dim=24):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(in_ch, width, 5, padding=2), nn.ReLU(),
                                  nn.Conv1d(width, width, 5, padding=2), nn.ReLU())
        self.out = nn.Linear(width, dim)

    def forward(self, x):
        return self.out(self.conv(x).mean(-1))


class ActivityClassifier(pl.LightningModule):
    def __init__(self, num_classes=4, lr=3e-3):
        super().__init__()
        self.encoder = SignalEncoder()
        self.head = nn.Linear(24, num_classes)
        self.lr = lr

    def forward(self, x):
        return self.head(F.relu(self.encoder(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)}


def make_loaders(n=40, bs=8):
    g = torch.Generator().manual_seed(6)
    x = torch.randn(n, 2, 32, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    ds = TensorDataset(x, y)
    return DataLoader(ds, batch_size=bs, shuffle=True), DataLoader(ds, batch_size=bs)


def main():
    pl.seed_everything(0)
    train_loader, val_loader = make_loaders()
    probe = next(iter(val_loader))[0]
    model = ActivityClassifier()
    trainer = pl.Trainer(max_epochs=2, callbacks=[EmbeddingDriftMonitor(probe)], logger=False)
    trainer.fit(model, train_loader, val_loader)
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
