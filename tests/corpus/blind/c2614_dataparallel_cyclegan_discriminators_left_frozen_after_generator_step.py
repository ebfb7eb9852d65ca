import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def set_requires_grad(nets, requires_grad=False):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


class ResnetGenerator(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.inp = nn.Conv2d(3, c, 3, padding=1)
        self.res = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.InstanceNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1))
        self.out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.inp(x))
        return torch.tanh(self.out(h + self.res(h)))


class NLayerDiscriminator(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, x):
        return self.net(x)


class CycleGANModel:
    def __init__(self, lr=2e-4, lambda_cycle=10.0):
        self.netG_A = nn.DataParallel(ResnetGenerator())
        self.netG_B = nn.DataParallel(ResnetGenerator())
        self.netD_A = nn.DataParallel(NLayerDiscriminator())
        self.netD_B = nn.DataParallel(NLayerDiscriminator())
        self.optimizer_G = torch.optim.Adam(itertools.chain(self.netG_A.parameters(), self.netG_B.parameters()),
                                            lr=lr, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(itertools.chain(self.netD_A.parameters(), self.netD_B.parameters()),
                                            lr=lr, betas=(0.5, 0.999))
        self.lambda_cycle = lambda_cycle

    def set_input(self, real_A, real_B):
        self.real_A, self.real_B = real_A, real_B

    def forward(self):
        self.fake_B = self.netG_A(self.real_A)
        self.rec_A = self.netG_B(self.fake_B)
        self.fake_A = self.netG_B(self.real_B)
        self.rec_B = self.netG_A(self.fake_A)

    @staticmethod
    def gan_loss(pred, target_is_real):
        return F.mse_loss(pred, torch.full_like(pred, 1.0 if target_is_real else 0.0))

    def backward_G(self):
        loss = (self.gan_loss(self.netD_A(self.fake_B), True) + self.gan_loss(self.netD_B(self.fake_A), True)
                + self.lambda_cycle * (F.l1_loss(self.rec_A, self.real_A) + F.l1_loss(self.rec_B, self.real_B)))
        loss.backward()

    def backward_D_basic(self, netD, real, fake):
        loss_D = 0.5 * (self.gan_loss(netD(real), True) + self.gan_loss(netD(fake.detach()), False))
        loss_D.backward()
        return loss_D

    def optimize_parameters(self):
        self.forward()
        set_requires_grad([self.netD_A, self.netD_B], False)
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
        self.optimizer_D.zero_grad()
        self.backward_D_basic(self.netD_A, self.real_B, self.fake_B)
        self.backward_D_basic(self.netD_B, self.real_A, self.fake_A)
        self.optimizer_D.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    domain_a = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    domain_b = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    model = CycleGANModel()
    for real_A, real_B in DataLoader(TensorDataset(domain_a, domain_b), batch_size=2):
        model.set_input(real_A, real_B)
        model.optimize_parameters()
    return {"netD_A": model.netD_A.module, "netG_A": model.netG_A.module}

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
