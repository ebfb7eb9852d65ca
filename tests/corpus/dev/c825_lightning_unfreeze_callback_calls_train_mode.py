import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, d_in=16, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)


def freeze(module):
    for p in module.parameters():
        p.requires_grad = False
    module.eval()


class TransferModel(pl.LightningModule):
    def __init__(self, n_classes=3, lr=1e-3):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(32, n_classes)
        self.lr = lr
        freeze(self.encoder)

    def forward(self, x):
        return self.head(self.encoder(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam([{"params": self.head.parameters()},
                                 {"params": self.encoder.parameters(), "lr": self.lr / 10}], lr=self.lr)


class UnfreezeEncoderAt(Callback):
    """Warm up the head for a few epochs, then fine-tune the encoder as well."""

    def __init__(self, epoch=1):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            pl_module.encoder.train()


def main():
    pl.seed_everything(0)
    x = torch.randn(48, 16)
    y = torch.randint(0, 3, (48,))
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = TransferModel()
    enc_before = model.encoder.net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, callbacks=[UnfreezeEncoderAt(epoch=1)], logger=False,
                         enable_checkpointing=False)
    trainer.fit(model, loader)
    facts = {"encoder_in_train_mode": model.encoder.training,
             "encoder_changed": not torch.equal(enc_before, model.encoder.net[0].weight)}
    return {"model": model}, facts

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
