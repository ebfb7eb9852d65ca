import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class ConvBlock(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class Generator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(ConvBlock(3, ch), ConvBlock(ch, ch))
        self.tail = nn.Sequential(nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, noise, prev):
        return self.tail(self.body(noise + prev)) + prev


class Discriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(ConvBlock(3, ch), ConvBlock(ch, ch))
        self.tail = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x):
        return self.tail(self.body(x))


def train_scale(fabric, netG, netD, optG, optD, real, d_steps=2, g_steps=3, alpha=10.0):
    prev = torch.zeros_like(real)
    for _ in range(d_steps):
        noise = torch.randn_like(real)
        fake = netG(noise, prev)
        optD.zero_grad()
        errD = -netD(real).mean() + netD(fake.detach()).mean()
        fabric.backward(errD)
        optD.step()
    for _ in range(g_steps):
        optG.zero_grad()
        errG = -netD(fake).mean()
        rec = F.mse_loss(netG(torch.zeros_like(real), prev), real)
        fabric.backward(errG + alpha * rec)
        optG.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    netG, netD = Generator(), Discriminator()
    optG = torch.optim.Adam(netG.parameters(), lr=5e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=5e-4, betas=(0.5, 0.999))
    netG, optG = fabric.setup(netG, optG)
    netD, optD = fabric.setup(netD, optD)
    real = torch.rand(1, 3, 12, 12) * 2 - 1
    for _ in range(2):
        train_scale(fabric, netG, netD, optG, optD, real)
    return {"netG": netG.module, "netD": netD.module}

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
