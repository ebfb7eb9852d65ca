import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PretrainedEEGEncoder(nn.Module):
    """Stand-in for the pretrained encoder: patchify the signal, embed, mix, pool."""

    def __init__(self, in_ch=8, patch=16, dim=32):
        super().__init__()
        self.patch_embed = nn.Conv1d(in_ch, dim, patch, stride=patch)
        self.mixer = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())

    def forward(self, x):
        tokens = self.patch_embed(x).transpose(1, 2)
        return tokens + self.mixer(tokens)


class LinearProbeEEG(pl.LightningModule):
    def __init__(self, n_channels=19, backbone_channels=8, n_classes=4, lr=3e-3):
        super().__init__()
        self.chan_conv = nn.Conv1d(n_channels, backbone_channels, kernel_size=1)
        self.target_encoder = PretrainedEEGEncoder(in_ch=backbone_channels)
        self.linear_probe1 = nn.Linear(32, 16)
        self.linear_probe2 = nn.Linear(16, n_classes)
        self.lr = lr

    def on_train_epoch_start(self):
        self.target_encoder.eval()

    def forward(self, x):
        z = self.target_encoder(self.chan_conv(x))
        h = F.gelu(self.linear_probe1(z)).mean(dim=1)
        return self.linear_probe2(h)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.log("train/acc", (logits.argmax(-1) == y).float().mean())
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            list(self.chan_conv.parameters())
            + list(self.linear_probe1.parameters())
            + list(self.linear_probe2.parameters()),
            weight_decay=0.01, lr=self.lr)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=12),
                                 "interval": "step"}}


def main():
    pl.seed_everything(12)
    g = torch.Generator().manual_seed(12)
    x = torch.randn(48, 19, 64, generator=g)
    y = torch.randint(0, 4, (48,), generator=g)
    x[torch.arange(48), y, :] += 1.0
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)
    model = LinearProbeEEG()
    c0 = model.chan_conv.weight.detach().clone()
    b0 = model.target_encoder.patch_embed.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"chan_conv_changed": not torch.equal(c0, model.chan_conv.weight),
             "backbone_changed": not torch.equal(b0, model.target_encoder.patch_embed.weight)})

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
