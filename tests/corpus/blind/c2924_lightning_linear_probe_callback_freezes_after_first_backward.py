import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class AudioEncoder(nn.Module):
    """Stands in for a pretrained self-supervised speech encoder (frames -> contextual features)."""

    def __init__(self, n_mels=8, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, dim, 3, padding=1), nn.GELU(), nn.Conv1d(dim, dim, 3, padding=1))
        self.context = nn.GRU(dim, dim, batch_first=True)

    def forward(self, mels):
        h, _ = self.context(self.conv(mels).transpose(1, 2))
        return h.mean(1)


class LinearProbe(pl.LightningModule):
    def __init__(self, n_classes=5, lr=5e-3):
        super().__init__()
        self.encoder = AudioEncoder()
        self.probe = nn.Linear(16, n_classes)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        mels, y = batch
        loss = F.cross_entropy(self.probe(self.encoder(mels)), y)
        self.log("probe/ce", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.01)


class FreezeEncoder(pl.Callback):
    """Linear-probe protocol: the pretrained encoder must stay fixed, only the probe is fitted."""

    def __init__(self):
        self.frozen = False

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        if not self.frozen:
            pl_module.encoder.requires_grad_(False)
            pl_module.encoder.eval()
            self.frozen = True


def make_loader(n=30):
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(n, 8, 10, generator=g)
    y = mels[:, :5, :3].mean(-1).argmax(-1)
    return DataLoader(TensorDataset(mels, y), batch_size=10, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = LinearProbe()
    enc_before = module.encoder.conv[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[FreezeEncoder()])
    trainer.fit(module, make_loader())
    facts = {"encoder_changed": not torch.equal(enc_before, module.encoder.conv[0].weight),
             "encoder_requires_grad": module.encoder.conv[0].weight.requires_grad}
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
