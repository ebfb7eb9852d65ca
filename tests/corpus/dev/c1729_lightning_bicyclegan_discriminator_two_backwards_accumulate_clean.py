import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LatentEncoder(nn.Module):
    def __init__(self, x_dim=16, z_dim=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(x_dim, 32), nn.ReLU())
        self.mu, self.logvar = nn.Linear(32, z_dim), nn.Linear(32, z_dim)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class Generator(nn.Module):
    def __init__(self, x_dim=16, z_dim=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(x_dim + z_dim, 32), nn.ReLU(), nn.Linear(32, x_dim))

    def forward(self, a, z):
        return self.net(torch.cat([a, z], dim=-1))


class Discriminator(nn.Module):
    def __init__(self, x_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 * x_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, a, b):
        return self.net(torch.cat([a, b], dim=-1))


class BicycleGAN(pl.LightningModule):
    """cVAE-GAN + cLR-GAN sharing one discriminator (the `use_same_D` option)."""

    def __init__(self, z_dim=4, lr=2e-4):
        super().__init__()
        self.automatic_optimization = False
        self.netE, self.netG, self.netD = LatentEncoder(z_dim=z_dim), Generator(z_dim=z_dim), Discriminator()
        self.z_dim, self.lr = z_dim, lr

    def d_loss(self, real_A, real_B, fake_B):
        pred_real, pred_fake = self.netD(real_A, real_B), self.netD(real_A, fake_B.detach())
        return (F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
                + F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)))

    def training_step(self, batch, batch_idx):
        real_A, real_B = batch
        opt_eg, opt_d = self.optimizers()
        mu, logvar = self.netE(real_B)
        z_encoded = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        fake_B_encoded = self.netG(real_A, z_encoded)
        fake_B_random = self.netG(real_A, torch.randn(real_A.size(0), self.z_dim))
        # discriminator: two separate graphs, two backward calls, gradients accumulate before one step
        opt_d.zero_grad()
        self.manual_backward(self.d_loss(real_A, real_B, fake_B_encoded))
        self.manual_backward(self.d_loss(real_A, real_B, fake_B_random))
        opt_d.step()
        # encoder + generator
        pred_enc, pred_rand = self.netD(real_A, fake_B_encoded), self.netD(real_A, fake_B_random)
        kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
        loss_eg = (F.binary_cross_entropy_with_logits(pred_enc, torch.ones_like(pred_enc))
                   + F.binary_cross_entropy_with_logits(pred_rand, torch.ones_like(pred_rand))
                   + 10.0 * F.l1_loss(fake_B_encoded, real_B) + 0.01 * kl)
        opt_eg.zero_grad()
        self.manual_backward(loss_eg)
        opt_eg.step()

    def configure_optimizers(self):
        opt_eg = torch.optim.Adam(list(self.netE.parameters()) + list(self.netG.parameters()), lr=self.lr)
        opt_d = torch.optim.Adam(self.netD.parameters(), lr=self.lr)
        return [opt_eg, opt_d]


def main():
    pl.seed_everything(9)
    g = torch.Generator().manual_seed(9)
    real_A = torch.randn(32, 16, generator=g)
    real_B = torch.tanh(real_A @ torch.randn(16, 16, generator=g))
    loader = DataLoader(TensorDataset(real_A, real_B), batch_size=8, shuffle=True, generator=g)
    model = BicycleGAN()
    d0, e0 = model.netD.net[0].weight.detach().clone(), model.netE.body[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"discriminator_changed": not torch.equal(d0, model.netD.net[0].weight),
                              "encoder_changed": not torch.equal(e0, model.netE.body[0].weight)}

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
