import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ResidualDenseBlock(nn.Module):
    def __init__(self, ch, growth=8):
        super().__init__()
        self.c1 = nn.Conv2d(ch, growth, 3, padding=1)
        self.c2 = nn.Conv2d(ch + growth, ch, 3, padding=1)

    def forward(self, x):
        y = F.leaky_relu(self.c1(x), 0.2)
        return x + 0.2 * self.c2(torch.cat([x, y], 1))


class SRNet(nn.Module):
    def __init__(self, ch=16, n_blocks=2, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 3, padding=1)
        self.body = nn.Sequential(*[ResidualDenseBlock(ch) for _ in range(n_blocks)])
        self.upsampler = nn.Sequential(nn.Conv2d(ch, ch * scale ** 2, 3, padding=1), nn.PixelShuffle(scale), nn.LeakyReLU(0.2))
        self.tail = nn.Conv2d(ch, 3, 3, padding=1)
        self.scale = scale

    def extract(self, lr):
        feat = self.head(lr)
        return feat + self.body(feat)

    def reconstruct(self, feat):
        up = self.upsampler(feat)
        return up.detach()

    def forward(self, lr):
        base = F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + self.tail(self.reconstruct(self.extract(lr)))


class PatchDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 4, 2, 1))

    def forward(self, x):
        return self.net(x)


def train_one_epoch(fabric, gen, disc, opt_g, opt_d, loader, cfg):
    for lr_img, hr_img in loader:
        sr = gen(lr_img)
        real, fake = disc(hr_img), disc(sr.detach())
        d_loss = F.softplus(-real).mean() + F.softplus(fake).mean()
        opt_d.zero_grad()
        fabric.backward(d_loss)
        opt_d.step()
        g_loss = F.l1_loss(sr, hr_img) + cfg["adv_weight"] * F.softplus(-disc(sr)).mean()
        opt_g.zero_grad()
        fabric.backward(g_loss)
        fabric.clip_gradients(gen, opt_g, max_norm=cfg["max_norm"])
        opt_g.step()


def build_optimizers(gen, disc, cfg):
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg["lr_g"], betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg["lr_d"], betas=(0.9, 0.99))
    return opt_g, opt_d


def patches(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(n, 3, size, size, generator=g)
    lr = F.interpolate(hr, scale_factor=0.5, mode="bilinear", align_corners=False)
    return DataLoader(TensorDataset(lr, hr), batch_size=4, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    cfg = {"lr_g": 2e-4, "lr_d": 2e-4, "adv_weight": 5e-3, "max_norm": 10.0}
    gen, disc = SRNet(), PatchDiscriminator()
    opt_g, opt_d = build_optimizers(gen, disc, cfg)
    gen, opt_g = fabric.setup(gen, opt_g)
    disc, opt_d = fabric.setup(disc, opt_d)
    loader = fabric.setup_dataloaders(patches())
    body0 = gen.body[0].c1.weight.detach().clone()
    tail0 = gen.tail.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(fabric, gen, disc, opt_g, opt_d, loader, cfg)
    return {"gen": gen.module}, {
        "body_changed": not torch.equal(body0, gen.body[0].c1.weight),
        "tail_changed": not torch.equal(tail0, gen.tail.weight),
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
