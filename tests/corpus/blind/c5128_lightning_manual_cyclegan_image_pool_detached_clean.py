import random

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"ch": 3, "size": 8, "pool_size": 6, "lambda_cyc": 10.0, "lambda_id": 5.0, "lr": 2e-4, "epochs": 1}


class ImagePool:
    """History buffer of generated images (Shrivastava et al.), as in the CycleGAN code base."""

    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for img in images.detach():
            img = img.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.cat(out, 0)


def generator(ch):
    return nn.Sequential(nn.Conv2d(ch, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, ch, 3, padding=1), nn.Tanh())


def discriminator(ch):
    return nn.Sequential(nn.Conv2d(ch, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 3, padding=1))


class CycleGAN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.G_AB, self.G_BA = generator(cfg["ch"]), generator(cfg["ch"])
        self.D_A, self.D_B = discriminator(cfg["ch"]), discriminator(cfg["ch"])
        self.pool_A, self.pool_B = ImagePool(cfg["pool_size"]), ImagePool(cfg["pool_size"])

    @staticmethod
    def lsgan(pred, real):
        return F.mse_loss(pred, torch.full_like(pred, 1.0 if real else 0.0))

    def training_step(self, batch, batch_idx):
        real_A, real_B = batch
        opt_g, opt_d = self.optimizers()
        fake_B, fake_A = self.G_AB(real_A), self.G_BA(real_B)
        loss_g = (self.lsgan(self.D_B(fake_B), True) + self.lsgan(self.D_A(fake_A), True)
                  + self.cfg["lambda_cyc"] * (F.l1_loss(self.G_BA(fake_B), real_A) + F.l1_loss(self.G_AB(fake_A), real_B))
                  + self.cfg["lambda_id"] * (F.l1_loss(self.G_AB(real_B), real_B) + F.l1_loss(self.G_BA(real_A), real_A)))
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        pooled_B, pooled_A = self.pool_B.query(fake_B), self.pool_A.query(fake_A)
        loss_d = 0.5 * (self.lsgan(self.D_B(real_B), True) + self.lsgan(self.D_B(pooled_B), False)
                        + self.lsgan(self.D_A(real_A), True) + self.lsgan(self.D_A(pooled_A), False))
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        self.log_dict({"loss_g": loss_g.item(), "loss_d": loss_d.item()})

    def configure_optimizers(self):
        g_params = list(self.G_AB.parameters()) + list(self.G_BA.parameters())
        d_params = list(self.D_A.parameters()) + list(self.D_B.parameters())
        return [torch.optim.Adam(g_params, lr=self.cfg["lr"], betas=(0.5, 0.999)),
                torch.optim.Adam(d_params, lr=self.cfg["lr"], betas=(0.5, 0.999))]


def unpaired_loader(cfg, n=24):
    g = torch.Generator().manual_seed(0)
    a = torch.rand(n, cfg["ch"], cfg["size"], cfg["size"], generator=g) * 2 - 1
    b = torch.rand(n, cfg["ch"], cfg["size"], cfg["size"], generator=g) * 1.5 - 0.5
    return DataLoader(TensorDataset(a, b), batch_size=6, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = CycleGAN(CFG)
    g0, d0 = model.G_AB[0].weight.detach().clone(), model.D_B[0].weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(model, unpaired_loader(CFG))
    return {"G_AB": model.G_AB, "D_B": model.D_B}, {
        "generator_changed": not torch.equal(g0, model.G_AB[0].weight),
        "discriminator_changed": not torch.equal(d0, model.D_B[0].weight),
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
