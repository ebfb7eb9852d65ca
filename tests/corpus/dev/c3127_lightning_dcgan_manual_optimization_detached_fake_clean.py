import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, out_dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, out_dim), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, in_dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


class GAN(pl.LightningModule):
    def __init__(self, z_dim=8, lr=2e-4):
        super().__init__()
        self.generator, self.discriminator = Generator(z_dim), Discriminator()
        self.z_dim, self.lr = z_dim, lr
        self.automatic_optimization = False

    def adversarial_loss(self, logits, is_real):
        target = torch.ones_like(logits) if is_real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.shape[0], self.z_dim)
        fake = self.generator(z)
        self.toggle_optimizer(opt_d)
        d_fake = self.discriminator(fake.detach())
        d_loss = 0.5 * (self.adversarial_loss(self.discriminator(real), True) + self.adversarial_loss(d_fake, False))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)
        self.toggle_optimizer(opt_g)
        g_loss = self.adversarial_loss(self.discriminator(fake), True)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        self.log_dict({"g_loss": g_loss.item(), "d_loss": d_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999)),
                torch.optim.Adam(self.discriminator.parameters(), lr=self.lr, betas=(0.5, 0.999))]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.rand(32, 32, generator=g) * 2 - 1), batch_size=8, shuffle=True, generator=g)
    gan = GAN()
    g0, d0 = gan.generator.net[0].weight.detach().clone(), gan.discriminator.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(gan, loader)
    facts = {"generator_changed": not torch.equal(g0, gan.generator.net[0].weight),
             "discriminator_changed": not torch.equal(d0, gan.discriminator.net[0].weight)}
    return {"generator": gan.generator, "discriminator": gan.discriminator}, facts

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
