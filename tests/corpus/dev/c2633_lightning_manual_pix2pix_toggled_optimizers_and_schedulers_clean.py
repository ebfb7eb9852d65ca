import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class UNetGenerator(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2))
        self.mid = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * c, 3, 4, 2, 1)

    def forward(self, x):
        d = self.down(x)
        return torch.tanh(self.up(torch.cat([d, self.mid(d)], dim=1)))


class PatchDiscriminator(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(6, c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, src, tgt):
        return self.net(torch.cat([src, tgt], dim=1))


class Pix2Pix(pl.LightningModule):
    def __init__(self, lr=2e-4, l1_weight=100.0):
        super().__init__()
        self.automatic_optimization = False
        self.generator = UNetGenerator()
        self.discriminator = PatchDiscriminator()
        self.lr, self.l1_weight = lr, l1_weight

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        opt_g, opt_d = self.optimizers()

        self.toggle_optimizer(opt_d)
        fake = self.generator(src)
        pred_real = self.discriminator(src, tgt)
        pred_fake = self.discriminator(src, fake.detach())
        d_loss = 0.5 * (F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
                        + F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        self.toggle_optimizer(opt_g)
        pred_fake = self.discriminator(src, fake)
        g_loss = (F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake))
                  + self.l1_weight * F.l1_loss(fake, tgt))
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def on_train_epoch_end(self):
        sched_g, sched_d = self.lr_schedulers()
        sched_g.step()
        sched_d.step()

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        decay = lambda epoch: 1.0 - max(0, epoch - 5) / 10
        return [opt_g, opt_d], [torch.optim.lr_scheduler.LambdaLR(opt_g, decay),
                                torch.optim.lr_scheduler.LambdaLR(opt_d, decay)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    src = torch.rand(8, 3, 8, 8, generator=g) * 2 - 1
    model = Pix2Pix()
    g_before = model.generator.down[0].weight.detach().clone()
    d_before = model.discriminator.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(src, src.flip(-1)), batch_size=4))
    facts = {"generator_changed": not torch.equal(g_before, model.generator.down[0].weight),
             "discriminator_changed": not torch.equal(d_before, model.discriminator.net[0].weight)}
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
