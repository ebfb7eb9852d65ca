import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ChannelAttention(nn.Module):
    def __init__(self, ch, reduction=4, res_scale=0.5):
        super().__init__()
        self.squeeze = nn.Conv2d(ch, ch // reduction, 1)
        self.excite = nn.Conv2d(ch // reduction, ch, 1)
        self.res_scale = res_scale

    def forward(self, x):
        att = torch.sigmoid(self.excite(F.relu(self.squeeze(F.adaptive_avg_pool2d(x, 1)))))
        att *= self.res_scale
        return x * att


class RCAB(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1))
        self.ca = ChannelAttention(ch)

    def forward(self, x):
        return x + self.ca(self.body(x))


class SRNet(nn.Module):
    def __init__(self, ch=16, n_blocks=2, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 3, padding=1)
        self.blocks = nn.Sequential(*[RCAB(ch) for _ in range(n_blocks)])
        self.upsample = nn.Sequential(nn.Conv2d(ch, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, lr):
        h = self.head(lr)
        return self.upsample(self.blocks(h) + h)


def make_loader():
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(8, 3, 16, 16, generator=g)
    lr = F.interpolate(hr, scale_factor=0.5, mode="bicubic", align_corners=False)
    return DataLoader(TensorDataset(lr, hr), batch_size=4, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for lr, hr in loader:
            loss = F.l1_loss(model(lr), hr)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    net = SRNet()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.99))
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[1], gamma=0.5)
    train(model, make_loader(), optimizer, scheduler)
    return {"model": model.module}

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
