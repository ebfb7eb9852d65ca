import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, hidden=64, out_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, out_dim))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, in_dim=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def ring_of_gaussians(n=256, modes=8):
    g = torch.Generator().manual_seed(0)
    k = torch.randint(0, modes, (n,), generator=g).float()
    angle = 2 * torch.pi * k / modes
    pts = torch.stack([angle.cos(), angle.sin()], -1) * 2 + 0.05 * torch.randn(n, 2, generator=g)
    return TensorDataset(pts)


class GANTrainer:
    def __init__(self, accelerator, G, D, opt_g, opt_d, z_dim=8):
        self.acc, self.G, self.D, self.opt_g, self.opt_d, self.z_dim = accelerator, G, D, opt_g, opt_d, z_dim

    def sample(self, n):
        return self.G(torch.randn(n, self.z_dim))

    def d_loss(self, real, fake):
        return F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake)).mean()

    def g_loss(self, fake):
        return F.softplus(-self.D(fake)).mean()

    def step(self, real):
        fake = self.sample(real.size(0)).detach()
        self.opt_d.zero_grad()
        self.acc.backward(self.d_loss(real, fake))
        self.opt_d.step()

        self.opt_g.zero_grad()
        self.acc.backward(self.g_loss(fake))
        self.opt_g.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    G, D = Generator(), Critic()
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
    loader = DataLoader(ring_of_gaussians(), batch_size=64, shuffle=True)
    G, D, opt_g, opt_d, loader = accelerator.prepare(G, D, opt_g, opt_d, loader)
    trainer = GANTrainer(accelerator, G, D, opt_g, opt_d)
    g0 = G.net[0].weight.detach().clone()
    for epoch in range(2):
        for (real,) in loader:
            trainer.step(real)
    return {"G": G, "D": D}, {"generator_changed": not torch.equal(g0, G.net[0].weight)}

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
