import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, out_dim=16, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2, inplace=True),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
                                 nn.Linear(hidden, out_dim))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, in_dim=16, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2, inplace=True),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).view(-1)


def clip_weights(module, c):
    for p in module.parameters():
        p.data.clamp_(-c, c)


class WGANTrainer:
    def __init__(self, z_dim=8, n_critic=3, clip=0.05, lr=5e-4):
        self.G = nn.DataParallel(Generator(z_dim))
        self.D = nn.DataParallel(Critic())
        self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=lr)
        self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=lr)
        self.z_dim, self.n_critic, self.clip = z_dim, n_critic, clip

    def critic_step(self, real):
        z = torch.randn(real.size(0), self.z_dim)
        fake = self.G(z).detach()
        loss_d = self.D(fake).mean() - self.D(real).mean()
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        clip_weights(self.D, self.clip)
        return loss_d.item()

    def generator_step(self, batch_size):
        z = torch.randn(batch_size, self.z_dim)
        loss_g = -self.D(self.G(z)).mean()
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return loss_g.item()

    def fit(self, loader, epochs=2):
        for _ in range(epochs):
            for i, (real,) in enumerate(loader):
                self.critic_step(real)
                if (i + 1) % self.n_critic == 0:
                    self.generator_step(real.size(0))


def main():
    torch.manual_seed(0)
    real = torch.randn(192, 16) * 0.5 + 1.0
    loader = DataLoader(TensorDataset(real), batch_size=32, shuffle=True)
    trainer = WGANTrainer()
    g_before = trainer.G.module.net[0].weight.detach().clone()
    trainer.fit(loader)
    return {"generator": trainer.G.module, "critic": trainer.D.module}, {
        "generator_changed": not torch.equal(g_before, trainer.G.module.net[0].weight),
        "critic_within_clip": all(bool(p.abs().max() <= 0.05 + 1e-7) for p in trainer.D.parameters()),
    }

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
