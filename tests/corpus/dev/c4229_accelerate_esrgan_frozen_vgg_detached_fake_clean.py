import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class RRDBLite(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(2 * ch, ch, 3, padding=1)

    def forward(self, x):
        y = F.leaky_relu(self.c1(x), 0.2, inplace=True)
        return x + 0.2 * self.c2(torch.cat([x, y], 1))


class Generator(nn.Module):
    def __init__(self, ch=16, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 3, padding=1)
        self.body = nn.Sequential(RRDBLite(ch), RRDBLite(ch))
        self.up = nn.Sequential(nn.Conv2d(ch, ch * scale ** 2, 3, padding=1), nn.PixelShuffle(scale))
        self.tail = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, lr):
        feat = self.head(lr)
        return self.tail(F.leaky_relu(self.up(feat + self.body(feat)), 0.2))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 16, 3, 2, 1),
                                 nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


def build_feature_extractor():
    vgg_like = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))
    vgg_like.requires_grad_(False)
    return vgg_like.eval()


def relativistic_loss(real_logits, fake_logits, real_is_real):
    a, b = (real_logits, fake_logits) if real_is_real else (fake_logits, real_logits)
    ones, zeros = torch.ones_like(a), torch.zeros_like(b)
    return 0.5 * (F.binary_cross_entropy_with_logits(a - b.mean(), ones) +
                  F.binary_cross_entropy_with_logits(b - a.mean(), zeros))


def train_one_epoch(gen, disc, vgg, loader, opt_g, opt_d, accelerator, cfg):
    for lr_img, hr_img in loader:
        sr = gen(lr_img)
        d_loss = relativistic_loss(disc(hr_img), disc(sr.detach()), real_is_real=True)
        opt_d.zero_grad()
        accelerator.backward(d_loss)
        opt_d.step()
        pix = F.l1_loss(sr, hr_img)
        percep = F.l1_loss(vgg(sr), vgg(hr_img))
        adv = relativistic_loss(disc(hr_img).detach(), disc(sr), real_is_real=False)
        g_loss = cfg["w_pix"] * pix + cfg["w_percep"] * percep + cfg["w_adv"] * adv
        opt_g.zero_grad()
        accelerator.backward(g_loss)
        opt_g.step()
        accelerator.log({"d_loss": d_loss.item(), "g_loss": g_loss.item()})


def div2k_like(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(n, 3, size, size, generator=g)
    return DataLoader(TensorDataset(F.avg_pool2d(hr, 2), hr), batch_size=4, shuffle=True, generator=g)


def main():
    set_seed(0)
    cfg = {"w_pix": 1e-2, "w_percep": 1.0, "w_adv": 5e-3}
    accelerator = Accelerator()
    gen, disc, vgg = Generator(), Discriminator(), build_feature_extractor()
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.9, 0.99))
    gen, disc, opt_g, opt_d, loader = accelerator.prepare(gen, disc, opt_g, opt_d, div2k_like())
    g0, d0, v0 = gen.head.weight.detach().clone(), disc.net[0].weight.detach().clone(), vgg[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(gen, disc, vgg, loader, opt_g, opt_d, accelerator, cfg)
    return {"gen": gen, "disc": disc}, {
        "generator_changed": not torch.equal(g0, gen.head.weight),
        "discriminator_changed": not torch.equal(d0, disc.net[0].weight),
        "vgg_unchanged": torch.equal(v0, vgg[0].weight),
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
