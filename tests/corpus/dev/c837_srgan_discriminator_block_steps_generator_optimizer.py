import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.PReLU(), nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class SRGenerator(nn.Module):
    def __init__(self, ch=16, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 3, padding=1)
        self.blocks = nn.Sequential(ResidualBlock(ch), ResidualBlock(ch))
        self.upsample = nn.Sequential(nn.Conv2d(ch, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, lr):
        return self.upsample(self.blocks(self.head(lr)))


class Discriminator(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                                      nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(2 * ch, 1)

    def forward(self, x):
        return self.classifier(self.features(x))


def train(g_model, d_model, loader, g_optimizer, d_optimizer, adv_weight=1e-3, epochs=1):
    bce = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        for lr_img, hr_img in loader:
            sr_img = g_model(lr_img)

            # ---- discriminator ----
            d_real = d_model(hr_img)
            d_fake = d_model(sr_img.detach())
            d_loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
            g_optimizer.zero_grad()
            d_loss.backward()
            g_optimizer.step()

            # ---- generator ----
            pixel_loss = F.l1_loss(sr_img, hr_img)
            adv = d_model(sr_img)
            g_loss = pixel_loss + adv_weight * bce(adv, torch.ones_like(adv))
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()


def main():
    torch.manual_seed(0)
    hr = torch.rand(16, 3, 16, 16)
    lr = F.avg_pool2d(hr, 2)
    loader = DataLoader(TensorDataset(lr, hr), batch_size=4, shuffle=True)
    g_model, d_model = SRGenerator(), Discriminator()
    g_optimizer = torch.optim.Adam(g_model.parameters(), lr=1e-4, betas=(0.9, 0.999))
    d_optimizer = torch.optim.Adam(d_model.parameters(), lr=1e-4, betas=(0.9, 0.999))
    d_before = d_model.classifier.weight.detach().clone()
    g_before = g_model.head.weight.detach().clone()
    train(g_model, d_model, loader, g_optimizer, d_optimizer)
    facts = {"discriminator_changed": not torch.equal(d_before, d_model.classifier.weight),
             "generator_changed": not torch.equal(g_before, g_model.head.weight)}
    return {"generator": g_model, "discriminator": d_model}, facts

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
