import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class InpaintGenerator(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(4, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, image, mask):
        out = self.net(torch.cat([image * (1 - mask), mask], dim=1))
        return image * (1 - mask) + out * mask


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(ch, 1, 4, stride=2, padding=1))

    def forward(self, x):
        return self.net(x)


class InpaintingTrainer:
    def __init__(self, accelerator, adv_weight=0.1):
        self.accelerator = accelerator
        self.generator, self.discriminator = InpaintGenerator(), PatchDiscriminator()
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.generator, self.discriminator, self.opt_g, self.opt_d = accelerator.prepare(
            self.generator, self.discriminator, self.opt_g, self.opt_d)
        self.adv_weight = adv_weight

    def step(self, image, mask):
        accelerator = self.accelerator
        fake = self.generator(image, mask)
        d_fake = self.discriminator(fake)
        d_real = self.discriminator(image)
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        self.opt_d.zero_grad()
        accelerator.backward(d_loss, retain_graph=True)
        self.opt_d.step()

        g_loss = F.l1_loss(fake, image) + self.adv_weight * F.softplus(-d_fake).mean()
        self.opt_g.zero_grad()
        accelerator.backward(g_loss)
        self.opt_g.step()
        return d_loss.item(), g_loss.item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    images = torch.rand(8, 3, 16, 16) * 2 - 1
    masks = (torch.rand(8, 1, 16, 16) > 0.7).float()
    loader = accelerator.prepare(DataLoader(TensorDataset(images, masks), batch_size=4))
    trainer = InpaintingTrainer(accelerator)
    for image, mask in loader:
        trainer.step(image, mask)
    return {"generator": trainer.generator, "discriminator": trainer.discriminator}

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
