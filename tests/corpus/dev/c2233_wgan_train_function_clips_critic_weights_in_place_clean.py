import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=8, ngf=16, out_dim=2):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, ngf), nn.ReLU(True), nn.Linear(ngf, ngf), nn.ReLU(True),
                                  nn.Linear(ngf, out_dim))

    def forward(self, z):
        return self.main(z)


class Critic(nn.Module):
    def __init__(self, in_dim=2, ndf=16):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(in_dim, ndf), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(ndf, ndf), nn.LeakyReLU(0.2, inplace=True), nn.Linear(ndf, 1))

    def forward(self, x):
        return self.main(x).mean()


def sample_real(n):
    angle = torch.rand(n) * 6.283
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1) * 2 + 0.05 * torch.randn(n, 2)


def train_wgan(netG, netD, optimizerG, optimizerD, iters=3, d_iters=3, batch=16, nz=8, clamp=0.01):
    one = torch.tensor(1.0)
    mone = one * -1
    for _ in range(iters):
        for p in netD.parameters():
            p.requires_grad = True
        for _ in range(d_iters):
            for p in netD.parameters():
                p.data.clamp_(-clamp, clamp)
            netD.zero_grad()
            errD_real = netD(sample_real(batch))
            errD_real.backward(one)
            with torch.no_grad():
                fake = netG(torch.randn(batch, nz))
            errD_fake = netD(fake)
            errD_fake.backward(mone)
            optimizerD.step()
        for p in netD.parameters():
            p.requires_grad = False
        netG.zero_grad()
        errG = netD(netG(torch.randn(batch, nz)))
        errG.backward(one)
        optimizerG.step()
    for p in netD.parameters():
        p.requires_grad = True


def main():
    torch.manual_seed(0)
    netG, netD = Generator(), Critic()
    optimizerD = torch.optim.RMSprop(netD.parameters(), lr=5e-4)
    optimizerG = torch.optim.RMSprop(netG.parameters(), lr=5e-4)
    g0 = netG.main[0].weight.detach().clone()
    d0 = netD.main[0].weight.detach().clone()
    train_wgan(netG, netD, optimizerG, optimizerD)
    return ({"netG": netG, "netD": netD},
            {"generator_changed": not torch.equal(g0, netG.main[0].weight),
             "critic_changed": not torch.equal(d0, netD.main[0].weight)})

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
