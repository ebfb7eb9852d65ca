import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"channels": (8, 16, 32), "n_classes": 3, "ds_weights": (1.0, 0.5, 0.25), "lr": 3e-3}


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.InstanceNorm3d(cout, affine=True),
                         nn.LeakyReLU(0.01, inplace=True),
                         nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.InstanceNorm3d(cout, affine=True),
                         nn.LeakyReLU(0.01, inplace=True))


class UNet3D(nn.Module):
    def __init__(self, channels, n_classes, in_ch=1):
        super().__init__()
        c0, c1, c2 = channels
        self.enc0, self.enc1, self.bottleneck = conv_block(in_ch, c0), conv_block(c0, c1), conv_block(c1, c2)
        self.up1 = nn.ConvTranspose3d(c2, c1, 2, stride=2)
        self.dec1 = conv_block(2 * c1, c1)
        self.up0 = nn.ConvTranspose3d(c1, c0, 2, stride=2)
        self.dec0 = conv_block(2 * c0, c0)
        self.seg_heads = nn.ModuleList([nn.Conv3d(c, n_classes, 1) for c in (c0, c1, c2)])

    def forward(self, x):
        e0 = self.enc0(x)
        e1 = self.enc1(F.max_pool3d(e0, 2))
        b = self.bottleneck(F.max_pool3d(e1, 2))
        d1 = self.dec1(torch.cat([self.up1(b), e1], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), e0], 1))
        return [head(f) for head, f in zip(self.seg_heads, (d0, d1, b))]   # full, 1/2, 1/4 resolution


def soft_dice_loss(logits, target, n_classes, eps=1e-5):
    probs = logits.softmax(1)
    onehot = F.one_hot(target, n_classes).permute(0, 4, 1, 2, 3).float()
    inter = (probs * onehot).sum((2, 3, 4))
    denom = probs.sum((2, 3, 4)) + onehot.sum((2, 3, 4))
    return 1 - ((2 * inter + eps) / (denom + eps)).mean()


def downsample_target(target, size):
    return F.interpolate(target[:, None].float(), size=size, mode="nearest")[:, 0].long()


class SegModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.net = UNet3D(cfg["channels"], cfg["n_classes"])
        self.val_dice = []

    def training_step(self, batch, batch_idx):
        vol, seg = batch
        loss = 0.0
        for w, logits in zip(self.cfg["ds_weights"], self.net(vol)):
            tgt = downsample_target(seg, logits.shape[2:])
            loss = loss + w * (F.cross_entropy(logits, tgt) + soft_dice_loss(logits, tgt, self.cfg["n_classes"]))
        self.log("train/loss", loss.item(), prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        vol, seg = batch
        pred = self.net(vol)[0].argmax(1)
        dice = (2 * ((pred == seg) & (seg > 0)).sum() / ((pred > 0).sum() + (seg > 0).sum() + 1e-5)).item()
        self.val_dice.append(dice)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.cfg["lr"], momentum=0.99, nesterov=True)
        poly = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: (1 - e / 10) ** 0.9)
        return [opt], [poly]


def brats_like(n=6, s=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    vol = torch.randn(n, 1, s, s, s, generator=g)
    seg = (vol[:, 0] > 0.5).long() + (vol[:, 0] > 1.2).long()
    return DataLoader(TensorDataset(vol, seg), batch_size=2, shuffle=seed == 0)


def main():
    pl.seed_everything(0)
    model = SegModule(CFG)
    enc0 = model.net.enc0[0].weight.detach().clone()
    deep0 = model.net.seg_heads[2].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, brats_like(seed=0), brats_like(n=2, seed=1))
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.net.enc0[0].weight),
        "deep_head_changed": not torch.equal(deep0, model.net.seg_heads[2].weight),
        "validated": len(model.val_dice) > 0,
    }

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
