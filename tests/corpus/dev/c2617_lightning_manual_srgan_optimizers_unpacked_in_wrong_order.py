import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.PReLU(), nn.Conv2d(width, width, 3, padding=1))
        self.up = nn.Sequential(nn.Conv2d(width, 12, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, x):
        h = self.head(x)
        return torch.tanh(self.up(h + self.body(h)))


class Discriminator(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width, 2 * width, 3, 2, 1), nn.LeakyReLU(0.2),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, 1))

    def forward(self, x):
        return self.net(x)


class SRGAN(pl.LightningModule):
    def __init__(self, lr_g=1e-3, lr_d=1e-3, adv_weight=1e-2):
        super().__init__()
        self.automatic_optimization = False
        self.generator = Generator()
        self.discriminator = Discriminator()
        self.lr_g, self.lr_d, self.adv_weight = lr_g, lr_d, adv_weight

    def generator_step(self, lr_img, hr_img):
        sr = self.generator(lr_img)
        adv = F.binary_cross_entropy_with_logits(self.discriminator(sr), torch.ones(len(sr), 1))
        return F.l1_loss(sr, hr_img) + self.adv_weight * adv, sr

    def discriminator_step(self, sr, hr_img):
        real = F.binary_cross_entropy_with_logits(self.discriminator(hr_img), torch.ones(len(hr_img), 1))
        fake = F.binary_cross_entropy_with_logits(self.discriminator(sr.detach()), torch.zeros(len(sr), 1))
        return (real + fake) / 2

    def training_step(self, batch, batch_idx):
        lr_img, hr_img = batch
        opt_g, opt_d = self.optimizers()
        sched_g, sched_d = self.lr_schedulers()

        opt_g.zero_grad()
        g_loss, sr = self.generator_step(lr_img, hr_img)
        self.manual_backward(g_loss)
        opt_g.step()

        opt_d.zero_grad()
        d_loss = self.discriminator_step(sr, hr_img)
        self.manual_backward(d_loss)
        opt_d.step()

        if (batch_idx + 1) % 2 == 0:
            sched_g.step()
            sched_d.step()
        self.log_dict({"g_loss": g_loss, "d_loss": d_loss}, prog_bar=True)

    def configure_optimizers(self):
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.lr_d, betas=(0.9, 0.999))
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr_g, betas=(0.9, 0.999))
        sched_d = torch.optim.lr_scheduler.StepLR(opt_d, step_size=100, gamma=0.5)
        sched_g = torch.optim.lr_scheduler.StepLR(opt_g, step_size=100, gamma=0.5)
        return [opt_d, opt_g], [sched_d, sched_g]


def main():
    pl.seed_everything(0)
    hr = torch.rand(8, 3, 16, 16) * 2 - 1
    loader = DataLoader(TensorDataset(F.avg_pool2d(hr, 2), hr), batch_size=4)
    model = SRGAN()
    gen_before = model.generator.head.weight.detach().clone()
    disc_before = model.discriminator.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, loader)
    facts = {"generator_changed": not torch.equal(gen_before, model.generator.head.weight),
             "discriminator_changed": not torch.equal(disc_before, model.discriminator.net[0].weight)}
    return {"generator": model.generator}, facts

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
