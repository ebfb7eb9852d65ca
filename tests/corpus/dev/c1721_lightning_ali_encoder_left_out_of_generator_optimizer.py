import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    """x -> z (the inference network of ALI / BiGAN)."""

    def __init__(self, x_dim=20, z_dim=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(x_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, z_dim))

    def forward(self, x):
        return self.net(x)


class Generator(nn.Module):
    def __init__(self, x_dim=20, z_dim=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, x_dim), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class JointDiscriminator(nn.Module):
    def __init__(self, x_dim=20, z_dim=6):
        super().__init__()
        self.dx = nn.Sequential(nn.Linear(x_dim, 32), nn.LeakyReLU(0.2))
        self.dz = nn.Sequential(nn.Linear(z_dim, 32), nn.LeakyReLU(0.2))
        self.joint = nn.Linear(64, 1)

    def forward(self, x, z):
        return self.joint(torch.cat([self.dx(x), self.dz(z)], dim=-1))


class ALI(pl.LightningModule):
    def __init__(self, z_dim=6, lr=2e-4):
        super().__init__()
        self.automatic_optimization = False
        self.netE, self.netG, self.netD = Encoder(z_dim=z_dim), Generator(z_dim=z_dim), JointDiscriminator(z_dim=z_dim)
        self.z_dim, self.lr = z_dim, lr

    def adversarial_losses(self, x):
        z = torch.randn(x.size(0), self.z_dim)
        d_real = self.netD(x, self.netE(x))
        d_fake = self.netD(self.netG(z), z)
        ones, zeros = torch.ones_like(d_real), torch.zeros_like(d_fake)
        loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
        loss_g = F.binary_cross_entropy_with_logits(d_fake, ones) + F.binary_cross_entropy_with_logits(d_real, zeros)
        return loss_d, loss_g

    def training_step(self, batch, batch_idx):
        (x,) = batch
        opt_d, opt_g = self.optimizers()
        loss_d, _ = self.adversarial_losses(x)
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        _, loss_g = self.adversarial_losses(x)
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()

    def configure_optimizers(self):
        opt_d = torch.optim.Adam(self.netD.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(self.netG.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return [opt_d, opt_g]


def main():
    pl.seed_everything(8)
    g = torch.Generator().manual_seed(8)
    data = torch.tanh(torch.randn(48, 20, generator=g))
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True, generator=g)
    model = ALI()
    e0 = model.netE.net[0].weight.detach().clone()
    g0 = model.netG.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"encoder_changed": not torch.equal(e0, model.netE.net[0].weight),
                              "generator_changed": not torch.equal(g0, model.netG.net[0].weight)}

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
