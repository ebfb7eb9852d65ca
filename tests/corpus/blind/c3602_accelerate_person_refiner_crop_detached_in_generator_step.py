import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SceneGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(4, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 3, 3, 1, 1))

    def forward(self, scene, box_mask):
        return torch.tanh(self.net(torch.cat([scene, box_mask], 1)))


class PersonRefiner(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.ReLU(), nn.Conv2d(8, 3, 3, 1, 1))

    def forward(self, crop):
        return torch.tanh(crop + self.net(crop))


class PatchDisc(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 3, 1, 1))

    def forward(self, x):
        return self.net(x)


def crop_person(img):
    return img[:, :, 4:12, 4:12]


def gan_loss(logits, real):
    return F.mse_loss(logits, torch.ones_like(logits) if real else torch.zeros_like(logits))


def main():
    set_seed(0)
    accelerator = Accelerator()
    real = torch.tanh(torch.randn(12, 3, 16, 16))
    mask = torch.zeros(12, 1, 16, 16)
    mask[:, :, 4:12, 4:12] = 1.0
    loader = DataLoader(TensorDataset(real * (1 - mask), mask, real), batch_size=4, shuffle=True)
    netG, refiner, netD_image, netD_person = SceneGenerator(), PersonRefiner(), PatchDisc(), PatchDisc()
    opt_g = torch.optim.Adam(list(netG.parameters()) + list(refiner.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(netD_image.parameters()) + list(netD_person.parameters()), lr=2e-4, betas=(0.5, 0.999))
    netG, refiner, netD_image, netD_person, opt_g, opt_d, loader = accelerator.prepare(
        netG, refiner, netD_image, netD_person, opt_g, opt_d, loader)
    r0, g0 = refiner.net[0].weight.detach().clone(), netG.net[0].weight.detach().clone()
    for scene, box, real_b in loader:
        fake = netG(scene, box)
        person_fake = refiner(crop_person(fake))
        opt_d.zero_grad()
        loss_d = gan_loss(netD_image(fake.detach()), False) + gan_loss(netD_image(real_b), True) + \
            gan_loss(netD_person(person_fake.detach()), False) + gan_loss(netD_person(crop_person(real_b)), True)
        accelerator.backward(loss_d)
        opt_d.step()
        opt_g.zero_grad()
        person_crop_fake = person_fake.detach()
        loss_g = gan_loss(netD_image(fake), True) + gan_loss(netD_person(person_crop_fake), True) + \
            10.0 * F.l1_loss(fake, real_b)
        accelerator.backward(loss_g)
        opt_g.step()
    return {"refiner": refiner, "netG": netG}, {
        "refiner_changed": not torch.equal(r0, refiner.net[0].weight),
        "generator_changed": not torch.equal(g0, netG.net[0].weight),
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
