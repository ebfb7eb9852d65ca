import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.InstanceNorm2d(cout), nn.ReLU())


class Generator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(conv_block(3, ch), conv_block(ch, ch), nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(ch, 1, 4, stride=2, padding=1))

    def forward(self, x):
        return self.net(x)


class ImagePool:
    """History of generated images (stored detached) to stabilise the discriminators."""

    def __init__(self, size=8):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for img in images.detach():
            if len(self.images) < self.size:
                self.images.append(img)
                out.append(img)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = img
            else:
                out.append(img)
        return torch.stack(out)


def gan_loss(pred, is_real):
    return F.mse_loss(pred, torch.full_like(pred, 1.0 if is_real else 0.0))


def backward_D_basic(accelerator, netD, real, fake):
    loss_real = gan_loss(netD(real), True)
    loss_fake = gan_loss(netD(fake.detach()), False)  # no gradient into the generator from the D step
    loss_D = (loss_real + loss_fake) * 0.5
    accelerator.backward(loss_D)
    return loss_D


def train_step(accelerator, nets, opts, pools, real_A, real_B, lambda_cyc=10.0):
    G_A, G_B, D_A, D_B = nets
    opt_G, opt_D = opts
    fake_B, fake_A = G_A(real_A), G_B(real_B)
    loss_G = (gan_loss(D_A(fake_B), True) + gan_loss(D_B(fake_A), True)
              + lambda_cyc * (F.l1_loss(G_B(fake_B), real_A) + F.l1_loss(G_A(fake_A), real_B)))
    opt_G.zero_grad()
    accelerator.backward(loss_G)
    opt_G.step()
    opt_D.zero_grad()
    backward_D_basic(accelerator, D_A, real_B, pools[0].query(fake_B))
    backward_D_basic(accelerator, D_B, real_A, pools[1].query(fake_A))
    opt_D.step()


def main():
    set_seed(6)
    g = torch.Generator().manual_seed(6)
    domain_A = torch.rand(16, 3, 16, 16, generator=g) * 2 - 1
    domain_B = torch.tanh(torch.randn(16, 3, 16, 16, generator=g))
    G_A, G_B, D_A, D_B = Generator(), Generator(), PatchDiscriminator(), PatchDiscriminator()
    opt_G = torch.optim.Adam(list(G_A.parameters()) + list(G_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(list(D_A.parameters()) + list(D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    accelerator = Accelerator()
    loader = DataLoader(TensorDataset(domain_A, domain_B), batch_size=8, shuffle=True, generator=g)
    G_A, G_B, D_A, D_B, opt_G, opt_D, loader = accelerator.prepare(G_A, G_B, D_A, D_B, opt_G, opt_D, loader)
    g0, d0 = G_A.net[0][0].weight.detach().clone(), D_A.net[0].weight.detach().clone()
    pools = (ImagePool(), ImagePool())
    for real_A, real_B in loader:
        train_step(accelerator, (G_A, G_B, D_A, D_B), (opt_G, opt_D), pools, real_A, real_B)
    return {"G_A": G_A, "D_A": D_A}, {"generator_changed": not torch.equal(g0, G_A.net[0][0].weight),
                                      "discriminator_changed": not torch.equal(d0, D_A.net[0].weight)}

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
