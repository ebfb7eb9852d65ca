import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class Encoder(nn.Module):
    """Splits an image into a spatial structure code and a global texture code."""

    def __init__(self, ch=8, tex=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.to_structure = nn.Conv2d(ch, 4, 1)
        self.to_texture = nn.Linear(ch, tex)

    def forward(self, x):
        h = self.body(x)
        return self.to_structure(h), self.to_texture(h.mean((2, 3)))


class Generator(nn.Module):
    def __init__(self, tex=8):
        super().__init__()
        self.mod = nn.Linear(tex, 4)
        self.up = nn.Sequential(nn.ConvTranspose2d(4, 8, 2, stride=2), nn.LeakyReLU(0.2), nn.Conv2d(8, 3, 3, padding=1))

    def forward(self, structure, texture):
        return torch.tanh(self.up(structure * (1 + self.mod(texture))[:, :, None, None]))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 4, stride=2, padding=1))

    def forward(self, x):
        return self.net(x)


def swap_forward(encoder, generator, real_img1, real_img2):
    structure1, texture1 = encoder(real_img1)
    _, texture2 = encoder(real_img2)
    return generator(structure1, texture1), generator(structure1, texture2)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    encoder, generator, disc = Encoder(), Generator(), Discriminator()
    g_optim = torch.optim.Adam(list(encoder.parameters()) + list(generator.parameters()), lr=2e-3, betas=(0.0, 0.99))
    d_optim = torch.optim.Adam(disc.parameters(), lr=2e-3, betas=(0.0, 0.99))
    encoder, g_optim = fabric.setup(encoder, g_optim)
    generator = fabric.setup(generator)
    disc, d_optim = fabric.setup(disc, d_optim)
    e0 = encoder.module.to_texture.weight.detach().clone()
    for _ in range(3):
        real_img1, real_img2 = (torch.rand(4, 3, 8, 8, generator=g) * 2 - 1 for _ in range(2))
        # discriminator step: generated images only as detached inputs
        with torch.no_grad():
            fake_img1, fake_img2 = swap_forward(encoder, generator, real_img1, real_img2)
        d_loss = F.softplus(disc(fake_img2)).mean() + F.softplus(-disc(real_img1)).mean()
        d_optim.zero_grad()
        fabric.backward(d_loss)
        d_optim.step()
        # generator step: run the encoder/generator again instead of retaining the first graph
        fake_img1, fake_img2 = swap_forward(encoder, generator, real_img1, real_img2)  # fresh graph
        g_loss = F.l1_loss(fake_img1, real_img1) + F.softplus(-disc(fake_img2)).mean()
        g_optim.zero_grad()
        fabric.backward(g_loss)
        g_optim.step()
    return {"encoder": encoder.module, "generator": generator.module, "disc": disc.module}, {
        "encoder_changed": not torch.equal(e0, encoder.module.to_texture.weight)}

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
