import torch
import torch.nn as nn
import torch.nn.functional as F


def set_requires_grad(nets, requires_grad):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


class UNetGenerator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, ch, 4, 2, 1), nn.LeakyReLU(0.2))
        self.up = nn.Sequential(nn.ConvTranspose2d(ch, ch, 4, 2, 1), nn.ReLU())
        self.out = nn.Conv2d(ch + 1, 1, 3, padding=1)

    def forward(self, x):
        return torch.tanh(self.out(torch.cat([self.up(self.down(x)), x], dim=1)))


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(2, ch, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, cond, img):
        return self.net(torch.cat([cond, img], dim=1))


class Pix2Pix:
    def __init__(self, lambda_l1=100.0):
        self.G, self.D = UNetGenerator(), PatchDiscriminator()
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.lambda_l1 = lambda_l1

    def backward_d(self, real_a, real_b, fake_b):
        pred_fake = self.D(real_a, fake_b.detach())
        pred_real = self.D(real_a, real_b)
        loss_d = 0.5 * (F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake))
                        + F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real)))
        loss_d.backward()

    def backward_g(self, real_a, real_b, fake_b):
        pred_fake = self.D(real_a, fake_b)
        loss_g = F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake))
        loss_g = loss_g + self.lambda_l1 * F.l1_loss(fake_b, real_b)
        loss_g.backward()

    def optimize_parameters(self, real_a, real_b):
        fake_b = self.G(real_a)
        self.opt_d.zero_grad()
        self.backward_d(real_a, real_b, fake_b)
        self.opt_d.step()
        set_requires_grad([self.D], False)
        self.opt_g.zero_grad()
        self.backward_g(real_a, real_b, fake_b)
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    edges = torch.rand(4, 1, 16, 16, generator=g)
    photos = torch.tanh(edges * 2 - 1)
    model = Pix2Pix()
    for step in range(3):
        model.optimize_parameters(edges, photos)
    return {"D": model.D, "G": model.G}

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
