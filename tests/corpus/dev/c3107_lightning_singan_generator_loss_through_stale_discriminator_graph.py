import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBlock(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class Generator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(ConvBlock(3, ch), ConvBlock(ch, ch), nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, noise, prev):
        return self.body(noise + prev) + prev


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(ConvBlock(3, ch), ConvBlock(ch, ch), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, x):
        return self.body(x)


class SingleScaleGAN(pl.LightningModule):
    def __init__(self, lr=5e-4):
        super().__init__()
        self.generator, self.discriminator = Generator(), PatchDiscriminator()
        self.lr = lr
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        noise = 0.1 * torch.randn_like(real)
        prev = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2)
        fake = self.generator(noise, prev)
        d_fake = self.discriminator(fake)
        d_loss = self.discriminator(real).mul(-1).mean() + d_fake.mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss, retain_graph=True)
        opt_d.step()
        g_loss = -d_fake.mean() + 10.0 * F.mse_loss(fake, real)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return [opt_g, opt_d]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.rand(8, 3, 16, 16, generator=g) * 2 - 1), batch_size=4)
    gan = SingleScaleGAN()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(gan, loader)
    return {"generator": gan.generator, "discriminator": gan.discriminator}

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
