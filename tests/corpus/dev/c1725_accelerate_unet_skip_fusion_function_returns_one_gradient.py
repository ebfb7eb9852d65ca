import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class ScaledSkipAdd(torch.autograd.Function):
    """Fused `x + alpha * skip` for the decoder's skip connections (saves one temporary)."""

    @staticmethod
    def forward(ctx, x, skip, alpha):
        ctx.alpha = alpha
        return x + alpha * skip

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


class DownBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(2, cout), nn.SiLU())

    def forward(self, x):
        return self.conv(x)


class TinyUNet(nn.Module):
    def __init__(self, ch=8, skip_scale=0.5):
        super().__init__()
        self.skip_scale = skip_scale
        self.enc1, self.enc2 = DownBlock(1, ch), DownBlock(ch, 2 * ch)
        self.mid = DownBlock(2 * ch, 2 * ch)
        self.up = nn.ConvTranspose2d(2 * ch, ch, 2, stride=2)
        self.dec = DownBlock(ch, ch)
        self.out = nn.Conv2d(ch, 1, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        h = self.mid(self.enc2(F.max_pool2d(s1, 2)))
        h = ScaledSkipAdd.apply(self.up(h), s1, self.skip_scale)
        return self.out(self.dec(h))


def train(accelerator, model, batches, optimizer):
    model.train()
    for noisy, clean in batches:
        with accelerator.accumulate(model):
            loss = F.mse_loss(model(noisy), clean)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(4, 8, 1, 16, 16, generator=g)
    batches = [(c + 0.2 * torch.randn(c.shape, generator=g), c) for c in clean]
    model = TinyUNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model, optimizer = accelerator.prepare(model, optimizer)
    train(accelerator, model, batches, optimizer)
    return {"model": model}

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
