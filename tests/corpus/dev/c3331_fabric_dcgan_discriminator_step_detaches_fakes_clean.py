import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=16, width=16):
        super().__init__()
        self.fc = nn.Linear(z_dim, width * 4 * 4)
        self.up = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(),
                                nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.BatchNorm2d(width // 2), nn.ReLU(),
                                nn.Conv2d(width // 2, 1, 3, padding=1), nn.Tanh())
        self.width = width

    def forward(self, z):
        return self.up(self.fc(z).view(-1, self.width, 4, 4))


class Discriminator(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width, width, 3, 1, 1), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(width * 4 * 4, 1)

    def forward(self, x):
        return self.fc(self.net(x).flatten(1))


def discriminator_step(fabric, D, opt_d, real, fake):
    logits_real, logits_fake = D(real), D(fake.detach())
    loss = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real)) + \
        F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    opt_d.zero_grad()
    fabric.backward(loss)
    opt_d.step()
    return loss.detach()


def generator_step(fabric, D, opt_g, fake):
    logits = D(fake)
    loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    opt_g.zero_grad()
    fabric.backward(loss)
    opt_g.step()
    return loss.detach()


def digits(n=32):
    g = torch.Generator().manual_seed(0)
    x = -torch.ones(n, 1, 8, 8)
    x[:, :, 2:6, 3:5] = 1.0
    return TensorDataset(x + 0.1 * torch.randn(n, 1, 8, 8, generator=g))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    G, opt_g = fabric.setup(G, opt_g)
    D, opt_d = fabric.setup(D, opt_d)
    loader = fabric.setup_dataloaders(DataLoader(digits(), batch_size=8, shuffle=True))
    for epoch in range(2):
        for (real,) in loader:
            fake = G(torch.randn(real.size(0), 16))
            discriminator_step(fabric, D, opt_d, real, fake)
            generator_step(fabric, D, opt_g, fake)
    return {"G": G.module, "D": D.module}

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
