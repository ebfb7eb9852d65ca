import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=16, out_dim=2, hidden=64):
        super().__init__()
        self.mapping = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden))
        self.synthesis = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, out_dim))

    def forward(self, z):
        return self.synthesis(self.mapping(z))


class Discriminator(nn.Module):
    def __init__(self, in_dim=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2))
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.net(x))


def r1_penalty(discriminator, real):
    real = real.detach().requires_grad_(True)
    scores = discriminator(real)
    (grad_real,) = torch.autograd.grad(outputs=scores.sum(), inputs=real, create_graph=True)
    return grad_real.pow(2).sum(dim=1).mean()


class RingGAN(pl.LightningModule):
    def __init__(self, z_dim=16, r1_gamma=10.0, r1_every=2):
        super().__init__()
        self.G, self.D = Generator(z_dim), Discriminator()
        self.z_dim, self.r1_gamma, self.r1_every = z_dim, r1_gamma, r1_every
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        (real,) = batch
        g_opt, d_opt = self.optimizers()
        z = torch.randn(real.shape[0], self.z_dim)

        fake = self.G(z)
        d_loss = F.softplus(self.D(fake.detach())).mean() + F.softplus(-self.D(real)).mean()
        if batch_idx % self.r1_every == 0:
            d_loss = d_loss + 0.5 * self.r1_gamma * self.r1_every * r1_penalty(self.D, real)
        d_opt.zero_grad()
        self.manual_backward(d_loss)
        d_opt.step()

        g_loss = F.softplus(-self.D(self.G(z))).mean()
        g_opt.zero_grad()
        self.manual_backward(g_loss)
        g_opt.step()
        self.log_dict({"d_loss": d_loss.detach(), "g_loss": g_loss.detach()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=2e-3, betas=(0.0, 0.99)),
                torch.optim.Adam(self.D.parameters(), lr=2e-3, betas=(0.0, 0.99))]


def ring_data(n=64):
    theta = torch.rand(n) * 2 * torch.pi
    return TensorDataset(torch.stack([theta.cos(), theta.sin()], 1) + 0.05 * torch.randn(n, 2))


def main():
    pl.seed_everything(0)
    gan = RingGAN()
    d0 = gan.D.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(gan, DataLoader(ring_data(), batch_size=16))
    # the penalty alone must reach the discriminator's weights (second-order path)
    gan.D.zero_grad(set_to_none=True)
    r1_penalty(gan.D, ring_data(16).tensors[0]).backward()
    return ({"D": gan.D, "G": gan.G},
            {"D_changed": not torch.equal(d0, gan.D.net[0].weight.detach())})

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
