import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class UNetLite(nn.Module):
    def __init__(self, ch=3, width=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(ch, width, 4, 2, 1), nn.LeakyReLU(0.2))
        self.mid = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * width, ch, 4, 2, 1)

    def forward(self, x):
        d = self.down(x)
        m = self.mid(d)
        return torch.tanh(self.up(torch.cat([d, m], dim=1)))


class PatchCritic(nn.Module):
    def __init__(self, ch=6, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(width, 1, 3, 1, 1))

    def forward(self, cond, img):
        return self.body(torch.cat([cond, img], dim=1))


def gradient_penalty(critic, cond, real, fake, lambda_gp=10.0):
    alpha = torch.rand(real.size(0), 1, 1, 1)
    interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = critic(cond, interp)
    grads = torch.autograd.grad(score.sum(), interp, create_graph=True)[0]
    return lambda_gp * ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


class Pix2PixWGAN(pl.LightningModule):
    def __init__(self, l1_weight=50.0):
        super().__init__()
        self.generator = UNetLite()
        self.critic = PatchCritic()
        self.l1_weight = l1_weight
        self.automatic_optimization = False

    def critic_loss(self, cond, real, fake):
        d_real = self.critic(cond, real).mean()
        d_fake = self.critic(cond, fake.detach()).mean()
        return d_fake - d_real + gradient_penalty(self.critic, cond, real, fake)

    def generator_loss(self, cond, real, fake):
        adv = -self.critic(cond, fake).mean()
        return adv + self.l1_weight * F.l1_loss(fake, real)

    def training_step(self, batch, batch_idx):
        cond, real = batch
        g_opt, d_opt = self.optimizers()
        fake = self.generator(cond)

        d_opt.zero_grad()
        d_loss = self.critic_loss(cond, real, fake)
        self.manual_backward(d_loss)
        d_opt.step()

        g_opt.zero_grad()
        g_loss = self.generator_loss(cond, real, fake)
        self.manual_backward(g_loss)
        g_opt.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.9))
        d_opt = torch.optim.Adam(self.critic.parameters(), lr=2e-4, betas=(0.5, 0.9))
        return [g_opt, d_opt]


def paired_loader(n=16):
    g = torch.Generator().manual_seed(0)
    sketches = torch.rand(n, 3, 16, 16, generator=g) * 2 - 1
    photos = torch.tanh(sketches + 0.3 * torch.randn(n, 3, 16, 16, generator=g))
    return DataLoader(TensorDataset(sketches, photos), batch_size=4, shuffle=True)


def main():
    pl.seed_everything(0)
    model = Pix2PixWGAN()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, paired_loader())
    return {"generator": model.generator}

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
