import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"ch": 3, "size": 8, "lambda_l1": 100.0, "lr": 2e-4, "epochs": 1}


def set_requires_grad(nets, requires_grad=False):
    if not isinstance(nets, (list, tuple)):
        nets = [nets]
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


class UNetLite(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(ch, 16, 4, 2, 1), nn.LeakyReLU(0.2))
        self.up = nn.Sequential(nn.ConvTranspose2d(16, 16, 4, 2, 1), nn.ReLU())
        self.out = nn.Conv2d(16 + ch, ch, 3, padding=1)

    def forward(self, x):
        return torch.tanh(self.out(torch.cat([self.up(self.down(x)), x], 1)))


class PatchGAN(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(2 * ch, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, src, img):
        return self.net(torch.cat([src, img], 1))


class Pix2Pix(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.netG, self.netD = UNetLite(cfg["ch"]), PatchGAN(cfg["ch"])

    @staticmethod
    def gan_loss(pred, real):
        return F.binary_cross_entropy_with_logits(pred, torch.full_like(pred, 1.0 if real else 0.0))

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        opt_g, opt_d = self.optimizers()
        fake = self.netG(src)
        # discriminator
        loss_d = 0.5 * (self.gan_loss(self.netD(src, fake.detach()), False) + self.gan_loss(self.netD(src, tgt), True))
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        # generator (D frozen so its weights get no gradient from the G loss)
        set_requires_grad(self.netD, False)
        loss_g = self.gan_loss(self.netD(src, fake), True) + self.cfg["lambda_l1"] * F.l1_loss(fake, tgt)
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        self.log_dict({"loss_d": loss_d.item(), "loss_g": loss_g.item()})

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.netG.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.netD.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.999))
        return [opt_g, opt_d]


def paired_loader(cfg, n=24):
    g = torch.Generator().manual_seed(0)
    src = torch.rand(n, cfg["ch"], cfg["size"], cfg["size"], generator=g) * 2 - 1
    return DataLoader(TensorDataset(src, src.flip(-1)), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = Pix2Pix(CFG)
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(model, paired_loader(CFG))
    return {"netG": model.netG, "netD": model.netD}

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
