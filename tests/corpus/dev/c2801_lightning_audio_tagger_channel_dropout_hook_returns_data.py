import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class AudioTagger(nn.Module):
    """Small log-mel CNN for multi-label sound event tagging."""

    def __init__(self, n_classes=5, width=8):
        super().__init__()
        self.stem = ConvBlock(1, width)
        self.block1 = ConvBlock(width, width)
        self.block2 = ConvBlock(width, width)
        self.classifier = nn.Linear(width, n_classes)

    def forward(self, spec):
        h = self.block2(self.block1(self.stem(spec)))
        return self.classifier(h.mean(dim=(2, 3)))


class ChannelDropout:
    """Forward hook: drops whole feature channels of a block's output while training (SpecAugment-style)."""

    def __init__(self, p=0.25, seed=0):
        self.p = p
        self.gen = torch.Generator().manual_seed(seed)
        self.enabled = True

    def __call__(self, module, inputs, output):
        if not (self.enabled and module.training):
            return None
        keep = (torch.rand(output.shape[1], generator=self.gen) > self.p).float()
        scale = (keep / (1.0 - self.p)).view(1, -1, 1, 1)
        return output.data * scale


def attach_channel_dropout(net, layer_name, p):
    gate = ChannelDropout(p=p)
    handle = getattr(net, layer_name).register_forward_hook(gate)
    return gate, handle


class TaggerModule(pl.LightningModule):
    def __init__(self, lr=1e-2, drop_layer="block1", drop_p=0.25):
        super().__init__()
        self.net = AudioTagger()
        self.gate, self.gate_handle = attach_channel_dropout(self.net, drop_layer, drop_p)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        spec, labels = batch
        logits = self.net(spec)
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        self.log("train/bce", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        spec, labels = batch
        logits = self.net(spec)
        self.log("val/bce", F.binary_cross_entropy_with_logits(logits, labels))

    def on_fit_end(self):
        self.gate_handle.remove()

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        return {"optimizer": opt, "lr_scheduler": sched}


def make_loaders(n=24):
    g = torch.Generator().manual_seed(0)
    spec = torch.randn(n, 1, 8, 8, generator=g)
    labels = (spec.mean(dim=(1, 2))[:, :5] > 0).float()
    ds = TensorDataset(spec, labels)
    return DataLoader(ds, batch_size=8, shuffle=True, generator=g), DataLoader(ds, batch_size=8)


def main():
    pl.seed_everything(0)
    train_loader, val_loader = make_loaders()
    model = TaggerModule()
    stem_before = model.net.stem.conv.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, train_loader, val_loader)
    facts = {"stem_changed": not torch.equal(stem_before, model.net.stem.conv.weight)}
    return {"net": model.net}, facts

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
