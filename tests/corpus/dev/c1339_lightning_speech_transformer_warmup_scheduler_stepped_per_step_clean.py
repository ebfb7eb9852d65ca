import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SpeechCommandTransformer(pl.LightningModule):
    def __init__(self, n_mels=16, dim=24, n_classes=6, warmup_steps=4, lr=2e-3):
        super().__init__()
        self.proj = nn.Linear(n_mels, dim)
        layer = nn.TransformerEncoderLayer(dim, 4, 48, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = nn.Linear(dim, n_classes)
        self.warmup_steps, self.lr = warmup_steps, lr

    def forward(self, mels):
        return self.head(self.encoder(self.proj(mels.transpose(1, 2))).mean(1))

    def training_step(self, batch, batch_idx):
        mels, labels = batch
        loss = F.cross_entropy(self(mels), labels)
        self.log("lr", self.trainer.optimizers[0].param_groups[0]["lr"])
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr)
        warmup = lambda step: min(1.0, (step + 1) / self.warmup_steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def make_loader():
    g = torch.Generator().manual_seed(18)
    mels = torch.randn(32, 16, 10, generator=g)
    return DataLoader(TensorDataset(mels, (mels[:, 0].mean(-1) > 0).long() * 3), batch_size=8, shuffle=True,
                      generator=g)


def main():
    pl.seed_everything(0)
    model = SpeechCommandTransformer()
    head0 = model.head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    lr_now = trainer.optimizers[0].param_groups[0]["lr"]
    return {"model": model}, {"head_changed_in_first_epoch": not torch.equal(head0, model.head.weight),
                              "lr_reached_peak": abs(lr_now - 2e-3) < 1e-9}

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
