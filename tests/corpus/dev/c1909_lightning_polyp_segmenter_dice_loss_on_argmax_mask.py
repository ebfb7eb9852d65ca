import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyUNet(nn.Module):
    def __init__(self, n_classes=3, width=8):
        super().__init__()
        self.enc1 = conv_block(3, width)
        self.enc2 = conv_block(width, 2 * width)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.dec = conv_block(2 * width, width)
        self.out = nn.Conv2d(width, n_classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        d = self.dec(torch.cat([self.up(e2), e1], dim=1))
        return self.out(d)


def soft_dice_loss(pred_onehot, target, n_classes, eps=1.0):
    target_onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).float()
    inter = (pred_onehot * target_onehot).sum(dim=(0, 2, 3))
    union = pred_onehot.sum(dim=(0, 2, 3)) + target_onehot.sum(dim=(0, 2, 3))
    return 1 - ((2 * inter + eps) / (union + eps)).mean()


class PolypSegmenter(pl.LightningModule):
    def __init__(self, n_classes=3, loss_type="dice", lr=1e-3):
        super().__init__()
        self.net = TinyUNet(n_classes)
        self.n_classes, self.loss_type, self.lr = n_classes, loss_type, lr

    def forward(self, images):
        return self.net(images)

    def compute_loss(self, logits, masks):
        pred = logits.argmax(dim=1)
        pred_onehot = F.one_hot(pred, self.n_classes).permute(0, 3, 1, 2).float()
        loss = soft_dice_loss(pred_onehot, masks, self.n_classes)
        if self.loss_type == "dice+ce":
            loss = loss + F.cross_entropy(logits, masks)
        return loss

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = self.compute_loss(self(images), masks)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, masks = batch
        self.log("val/dice", 1 - self.compute_loss(self(images), masks))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(12, 3, 16, 16, generator=g)
    masks = torch.randint(0, 3, (12, 16, 16), generator=g)
    train_dl = DataLoader(TensorDataset(images[:8], masks[:8]), batch_size=4, shuffle=True, generator=g)
    val_dl = DataLoader(TensorDataset(images[8:], masks[8:]), batch_size=4)
    model = PolypSegmenter(loss_type="dice")
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_dl, val_dl)
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
