import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class InpaintGenerator(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(4, c, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(c, c, 3, padding=2, dilation=2), nn.ReLU(),
                                 nn.Conv2d(c, 3, 3, padding=1))

    def forward(self, images, masks):
        x = torch.cat([images * (1 - masks), masks], dim=1)
        return torch.sigmoid(self.net(x))


class PatchDiscriminator(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, x):
        return self.net(x)


class InpaintingModel:
    def __init__(self, accelerator, lr=1e-4, adv_weight=0.1):
        self.accelerator = accelerator
        self.generator, self.discriminator = InpaintGenerator(), PatchDiscriminator()
        self.gen_optimizer = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.0, 0.9))
        self.dis_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr * 0.1, betas=(0.0, 0.9))
        self.adv_weight = adv_weight

    def prepare(self):
        (self.generator, self.discriminator, self.gen_optimizer,
         self.dis_optimizer) = self.accelerator.prepare(self.generator, self.discriminator,
                                                        self.gen_optimizer, self.dis_optimizer)

    def process(self, images, masks):
        outputs = self.generator(images, masks)
        dis_real = self.discriminator(images)
        dis_fake = self.discriminator(outputs.detach())
        dis_loss = (F.relu(1 - dis_real).mean() + F.relu(1 + dis_fake).mean()) / 2
        gen_fake = self.discriminator(outputs)
        gen_loss = -gen_fake.mean() * self.adv_weight + F.l1_loss(outputs, images) / masks.mean()
        return outputs, gen_loss, dis_loss

    def backward(self, gen_loss, dis_loss):
        self.dis_optimizer.zero_grad()
        self.accelerator.backward(dis_loss)
        self.dis_optimizer.step()
        self.gen_optimizer.zero_grad()
        self.accelerator.backward(gen_loss)
        self.gen_optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = InpaintingModel(accelerator)
    model.prepare()
    g = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 8, 8, generator=g)
    masks = (torch.rand(8, 1, 8, 8, generator=g) > 0.7).float()
    loader = accelerator.prepare(DataLoader(TensorDataset(images, masks), batch_size=4))
    for images, masks in loader:
        _, gen_loss, dis_loss = model.process(images, masks)
        model.backward(gen_loss, dis_loss)
    return {"generator": model.generator, "discriminator": model.discriminator}

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
