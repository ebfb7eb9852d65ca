import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class WSConv2d(nn.Conv2d):
    """Weight-standardized convolution (Qiao et al.), meant to be paired with GroupNorm for small batches."""

    def standardized_weight(self, eps=1e-5):
        w = self.weight.data
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        std = w.std(dim=(1, 2, 3), keepdim=True) + eps
        return (w - mean) / std

    def forward(self, x):
        return F.conv2d(x, self.standardized_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)


def ws_block(cin, cout, groups=4):
    return nn.Sequential(WSConv2d(cin, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU())


class SegmentationNet(nn.Module):
    def __init__(self, n_classes=3, width=8):
        super().__init__()
        self.enc1 = ws_block(3, width)
        self.enc2 = ws_block(width, width)
        self.down = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec = ws_block(2 * width, width)
        self.classifier = nn.Conv2d(width, n_classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.down(e1))
        d = self.dec(torch.cat([self.up(e2), e1], dim=1))
        return self.classifier(d)


def dice_loss(logits, target, n_classes, eps=1.0):
    probs = logits.softmax(dim=1)
    onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).float()
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    denom = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return 1.0 - ((2 * inter + eps) / (denom + eps)).mean()


class SegModule(pl.LightningModule):
    def __init__(self, n_classes=3, lr=5e-3):
        super().__init__()
        self.net = SegmentationNet(n_classes)
        self.n_classes, self.lr = n_classes, lr

    def training_step(self, batch, batch_idx):
        img, mask = batch
        logits = self.net(img)
        loss = F.cross_entropy(logits, mask) + dice_loss(logits, mask, self.n_classes)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        img, mask = batch
        miou_proxy = (self.net(img).argmax(1) == mask).float().mean()
        self.log("val/pixel_acc", miou_proxy)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)]


def make_data(n=12, size=8):
    g = torch.Generator().manual_seed(0)
    img = torch.rand(n, 3, size, size, generator=g)
    mask = img.argmax(dim=1)
    return TensorDataset(img, mask)


def main():
    pl.seed_everything(0)
    ds = make_data()
    module = SegModule()
    enc_before = module.net.enc1[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, DataLoader(ds, batch_size=4, shuffle=True), DataLoader(ds, batch_size=6))
    facts = {"encoder_conv_changed": not torch.equal(enc_before, module.net.enc1[0].weight)}
    return {"net": module.net}, facts

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
