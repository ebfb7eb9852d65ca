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


class SRResNet(nn.Module):
    def __init__(self, ch=16, scale=2):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.PReLU())
        self.body = nn.Sequential(ResidualBlock(ch), ResidualBlock(ch))
        self.up = nn.Sequential(nn.Conv2d(ch, ch * scale * scale, 3, padding=1), nn.PixelShuffle(scale), nn.PReLU())
        self.tail = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, lr):
        feat = self.head(lr)
        return self.tail(self.up(feat + self.body(feat)))


class Discriminator(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                                      nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(2 * ch, 1)

    def forward(self, img):
        return self.classifier(self.features(img))


def set_requires_grad(net, flag):
    for p in net.parameters():
        p.requires_grad = flag


def make_loader(n=16):
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(n, 3, 16, 16, generator=g)
    lr = F.avg_pool2d(hr, 2)
    return DataLoader(TensorDataset(lr, hr), batch_size=4, shuffle=True)


def main():
    torch.manual_seed(0)
    net_g = nn.DataParallel(SRResNet())
    net_d = nn.DataParallel(Discriminator())
    opt_g = torch.optim.Adam(net_g.parameters(), lr=1e-4, betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=1e-4, betas=(0.9, 0.99))
    bce = nn.BCEWithLogitsLoss()
    g0 = net_g.module.head[0].weight.detach().clone()
    d0 = net_d.module.features[0].weight.detach().clone()
    for lr_img, hr_img in make_loader():
        set_requires_grad(net_d, False)
        opt_g.zero_grad()
        fake_hr = net_g(lr_img)
        pred_g_fake = net_d(fake_hr)
        l_g = F.l1_loss(fake_hr, hr_img) + 1e-3 * bce(pred_g_fake, torch.ones_like(pred_g_fake))
        l_g.backward()
        opt_g.step()

        set_requires_grad(net_d, True)
        opt_d.zero_grad()
        pred_d_real = net_d(hr_img)
        pred_d_fake = net_d(fake_hr.detach())
        l_d = bce(pred_d_real, torch.ones_like(pred_d_real)) + bce(pred_d_fake, torch.zeros_like(pred_d_fake))
        l_d.backward()
        opt_d.step()
    return {"net_g": net_g.module, "net_d": net_d.module}, {
        "generator_changed": not torch.equal(g0, net_g.module.head[0].weight),
        "discriminator_changed": not torch.equal(d0, net_d.module.features[0].weight),
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
