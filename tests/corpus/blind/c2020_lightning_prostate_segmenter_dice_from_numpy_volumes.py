import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class VNetLite(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv3d(1, ch, 3, padding=1), nn.PReLU(ch))
        self.down = nn.Sequential(nn.Conv3d(ch, 2 * ch, 2, stride=2), nn.PReLU(2 * ch))
        self.up = nn.ConvTranspose3d(2 * ch, ch, 2, stride=2)
        self.out = nn.Conv3d(2 * ch, 2, 1)

    def forward(self, x):
        e = self.enc(x)
        return self.out(torch.cat([self.up(self.down(e)), e], dim=1))


def dice_coefficient(prob_fg, target, eps=1e-5):
    """Soft Dice over each volume, computed like the original V-Net python layer."""
    p = prob_fg.detach().cpu().numpy().reshape(len(prob_fg), -1)
    g = target.cpu().numpy().reshape(len(target), -1)
    inter = (p * g).sum(axis=1)
    union = (p * p).sum(axis=1) + (g * g).sum(axis=1)
    return torch.from_numpy(2 * inter / (union + eps)).float()


class ProstateSegmenter(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.net = VNetLite()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        vol, mask = batch
        prob_fg = F.softmax(self.net(vol), dim=1)[:, 1]
        dice = dice_coefficient(prob_fg, mask)
        loss = (1 - dice).mean().requires_grad_()
        self.log("train/dice", dice.mean())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)}


def main():
    pl.seed_everything(0)
    vols = torch.randn(8, 1, 8, 8, 8)
    masks = (vols > 0.8).float().squeeze(1)
    loader = DataLoader(TensorDataset(vols, masks), batch_size=2, shuffle=True)
    model = ProstateSegmenter()
    w0 = model.net.enc[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.net.enc[0].weight)}

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
