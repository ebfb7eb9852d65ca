import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=4, out_dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, out_dim))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, in_dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.shape[0], 1)
    interpolates = alpha * real + (1 - alpha) * fake
    interpolates.requires_grad = True
    scores = critic(interpolates)
    grads = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


class WGANGP(pl.LightningModule):
    def __init__(self, z_dim=4, n_critic=2, gp_weight=10.0, lr=1e-3):
        super().__init__()
        self.automatic_optimization = False
        self.generator, self.critic = Generator(z_dim), Critic()
        self.z_dim, self.n_critic, self.gp_weight, self.lr = z_dim, n_critic, gp_weight, lr

    def training_step(self, batch, batch_idx):
        (real,) = batch
        g_opt, c_opt = self.optimizers()
        z = torch.randn(real.shape[0], self.z_dim)
        fake = self.generator(z)

        c_loss = self.critic(fake.detach()).mean() - self.critic(real).mean()
        c_loss = c_loss + self.gp_weight * gradient_penalty(self.critic, real, fake)
        c_opt.zero_grad()
        self.manual_backward(c_loss)
        c_opt.step()

        if (batch_idx + 1) % self.n_critic == 0:
            g_loss = -self.critic(self.generator(z)).mean()
            g_opt.zero_grad()
            self.manual_backward(g_loss)
            g_opt.step()
            self.log("loss/g", g_loss)
        self.log("loss/critic", c_loss)

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.9))
        c_opt = torch.optim.Adam(self.critic.parameters(), lr=self.lr, betas=(0.5, 0.9))
        return [g_opt, c_opt]


def ring_of_gaussians(n=64, modes=4):
    g = torch.Generator().manual_seed(0)
    angles = 2 * torch.pi * (torch.arange(n) % modes) / modes
    centers = torch.stack([angles.cos(), angles.sin()], dim=1) * 2
    return centers + 0.1 * torch.randn(n, 2, generator=g)


def main():
    pl.seed_everything(0)
    module = WGANGP()
    loader = DataLoader(TensorDataset(ring_of_gaussians()), batch_size=16, shuffle=True)
    pl.Trainer(max_epochs=1, logger=False).fit(module, loader)
    return {"generator": module.generator, "critic": module.critic}

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
