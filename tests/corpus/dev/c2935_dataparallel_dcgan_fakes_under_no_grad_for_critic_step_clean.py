import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, z_dim=8, width=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, width * 4), nn.ReLU(),
                                 nn.Unflatten(1, (width, 2, 2)),
                                 nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.BatchNorm2d(width // 2), nn.ReLU(),
                                 nn.ConvTranspose2d(width // 2, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width // 2, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width // 2, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Flatten(), nn.Linear(width * 4, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def train_gan(netG, netD, optG, optD, real_batches, z_dim=8):
    criterion = nn.BCEWithLogitsLoss()
    for real in real_batches:
        b = real.shape[0]
        ones, zeros = torch.ones(b), torch.zeros(b)
        # (1) update D: maximize log D(x) + log(1 - D(G(z)))
        optD.zero_grad()
        with torch.no_grad():
            fake = netG(torch.randn(b, z_dim))
        errD = criterion(netD(real), ones) + criterion(netD(fake), zeros)
        errD.backward()
        optD.step()
        # (2) update G: maximize log D(G(z)); D's grads are computed but only optG steps
        optG.zero_grad()
        fake = netG(torch.randn(b, z_dim))
        errG = criterion(netD(fake), ones)
        errG.backward()
        optG.step()
    return errD.item(), errG.item()


def main():
    torch.manual_seed(0)
    g, d = Generator(), Discriminator()
    netG, netD = nn.DataParallel(g), nn.DataParallel(d)
    optG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real = torch.tanh(torch.randn(24, 1, 8, 8))
    g_before, d_before = g.net[0].weight.detach().clone(), d.net[0].weight.detach().clone()
    for epoch in range(2):
        train_gan(netG, netD, optG, optD, real.split(8))
    facts = {"generator_changed": not torch.equal(g_before, g.net[0].weight),
             "discriminator_changed": not torch.equal(d_before, d.net[0].weight)}
    return {"generator": g, "discriminator": d}, facts

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
