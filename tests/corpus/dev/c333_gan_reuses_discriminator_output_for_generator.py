import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, nz=8, out=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(nz, 32), nn.ReLU(), nn.Linear(32, out))

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, inp=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(inp, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


class GANTrainer:
    def __init__(self, netG, netD, nz=8, lr=2e-4):
        self.netG, self.netD, self.nz = netG, netD, nz
        self.optG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(0.5, 0.999))
        self.optD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(0.5, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()

    def train_step(self, real):
        b = real.size(0)
        real_label, fake_label = torch.ones(b, 1), torch.zeros(b, 1)
        fake = self.netG(torch.randn(b, self.nz))

        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        self.netD.zero_grad()
        errD_real = self.criterion(self.netD(real), real_label)
        output_fake = self.netD(fake)
        errD_fake = self.criterion(output_fake, fake_label)
        (errD_real + errD_fake).backward()
        self.optD.step()

        # (2) update G: maximize log(D(G(z))), reusing D's output on the fake batch
        self.netG.zero_grad()
        errG = self.criterion(output_fake, real_label)
        errG.backward()
        self.optG.step()
        return errD_real.item() + errD_fake.item(), errG.item()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    real = torch.randn(64, 2, generator=g) * 0.5 + torch.tensor([2.0, -1.0])
    trainer = GANTrainer(Generator(), Discriminator())
    for (x,) in DataLoader(TensorDataset(real), batch_size=16, shuffle=True, generator=g):
        trainer.train_step(x)
    return {"netG": trainer.netG, "netD": trainer.netD}

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
