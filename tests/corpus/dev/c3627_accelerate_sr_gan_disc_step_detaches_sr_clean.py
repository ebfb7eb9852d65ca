import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class UpProjection(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(ch, ch, 4, 2, 1)
        self.down = nn.Conv2d(ch, ch, 4, 2, 1)
        self.up2 = nn.ConvTranspose2d(ch, ch, 4, 2, 1)

    def forward(self, x):
        h0 = F.prelu(self.up(x), torch.tensor([0.25]))
        l0 = self.down(h0)
        return h0 + self.up2(l0 - x)


class DBPNLite(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.feat = nn.Conv2d(3, ch, 3, 1, 1)
        self.up = UpProjection(ch)
        self.out = nn.Conv2d(ch, 3, 3, 1, 1)

    def forward(self, lr):
        return self.out(self.up(self.feat(lr)))


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.LazyLinear(1))

    def forward(self, x):
        return self.net(x)


def main():
    set_seed(0)
    accelerator = Accelerator()
    hr = torch.tanh(torch.randn(12, 3, 16, 16))
    lr_imgs = F.avg_pool2d(hr, 2)
    loader = DataLoader(TensorDataset(lr_imgs, hr), batch_size=4, shuffle=True)
    netG, netD = DBPNLite(), Critic()
    netD(hr[:1])
    opt_g = torch.optim.Adam(netG.parameters(), lr=1e-4)
    opt_d = torch.optim.Adam(netD.parameters(), lr=1e-4)
    netG, netD, opt_g, opt_d, loader = accelerator.prepare(netG, netD, opt_g, opt_d, loader)
    g0, d0 = netG.out.weight.detach().clone(), netD.net[0].weight.detach().clone()
    for lr_b, hr_b in loader:
        sr = netG(lr_b)
        opt_d.zero_grad()
        d_real, d_fake = netD(hr_b), netD(sr.detach())
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
            F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        accelerator.backward(loss_d)
        opt_d.step()
        opt_g.zero_grad()
        d_fake_g = netD(sr)
        loss_g = F.mse_loss(sr, hr_b) + 1e-3 * F.binary_cross_entropy_with_logits(d_fake_g, torch.ones_like(d_fake_g))
        accelerator.backward(loss_g)
        opt_g.step()
    return {"netG": netG}, {
        "generator_changed": not torch.equal(g0, netG.out.weight),
        "critic_changed": not torch.equal(d0, netD.net[0].weight),
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
