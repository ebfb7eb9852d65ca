import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, ch=8):
        super().__init__()
        self.fc = nn.Linear(z_dim, ch * 4 * 4)
        self.up = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(), nn.ConvTranspose2d(ch, 1, 4, 2, 1), nn.Tanh())
        self.ch = ch

    def forward(self, z):
        return self.up(self.fc(z).view(-1, self.ch, 4, 4))


class Discriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, ch, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(ch * 16, 1))

    def forward(self, x):
        return self.net(x)


class DCGAN(pl.LightningModule):
    def __init__(self, z_dim=8, lr=2e-4):
        super().__init__()
        self.automatic_optimization = False
        self.G, self.D = Generator(z_dim), Discriminator()
        self.z_dim, self.lr = z_dim, lr

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.z_dim)
        fake = self.G(z)

        d_real, d_fake = self.D(real), self.D(fake.detach())
        d_loss = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
            F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

        g_logits = self.D(fake)
        g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.999)),
                torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.999))]


def main():
    pl.seed_everything(0)
    real = torch.tanh(torch.randn(16, 1, 8, 8))
    model = DCGAN()
    g0, d0 = model.G.fc.weight.detach().clone(), model.D.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(real), batch_size=4, shuffle=True))
    return ({"model": model},
            {"generator_changed": not torch.equal(g0, model.G.fc.weight),
             "discriminator_changed": not torch.equal(d0, model.D.net[0].weight)})

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
