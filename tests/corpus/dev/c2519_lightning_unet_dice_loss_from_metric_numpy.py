import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def dice_score(pred_mask, true_mask, smooth=1.0):
    """Soft Dice on numpy arrays (shared with the evaluation script)."""
    p = pred_mask.reshape(pred_mask.shape[0], -1)
    t = true_mask.reshape(true_mask.shape[0], -1)
    inter = (p * t).sum(1)
    return float(np.mean((2 * inter + smooth) / (p.sum(1) + t.sum(1) + smooth)))


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class LesionUNet(pl.LightningModule):
    def __init__(self, width=8):
        super().__init__()
        self.enc1, self.enc2 = DoubleConv(1, width), DoubleConv(width, 2 * width)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.dec = DoubleConv(2 * width, width)
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        return self.head(self.dec(torch.cat([self.up(e2), e1], dim=1)))

    def dice_loss(self, logits, masks):
        probs = torch.sigmoid(logits)
        dice = dice_score(probs.detach().cpu().numpy(), masks.cpu().numpy())
        return torch.tensor(1.0 - dice, requires_grad=True)

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = self.dice_loss(self(images), masks)
        self.log("train_dice_loss", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        images, masks = batch
        self.log("val_dice", dice_score(torch.sigmoid(self(images)).cpu().numpy(), masks.cpu().numpy()))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(12, 1, 16, 16, generator=g)
    masks = (images > 0.7).float()
    loader = DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True)
    model = LesionUNet()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader, DataLoader(TensorDataset(images, masks), batch_size=6))
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
