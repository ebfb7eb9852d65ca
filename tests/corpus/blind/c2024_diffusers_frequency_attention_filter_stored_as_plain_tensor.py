import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


def dct_filters(channels, height, width, freqs=((0, 0), (0, 1), (1, 0), (1, 1))):
    filt = torch.zeros(channels, height, width)
    part = channels // len(freqs)
    for i, (u, v) in enumerate(freqs):
        xs = torch.cos(math.pi * u * (torch.arange(height) + 0.5) / height)
        ys = torch.cos(math.pi * v * (torch.arange(width) + 0.5) / width)
        filt[i * part:(i + 1) * part] = xs[:, None] * ys[None, :]
    return filt


class MultiSpectralAttention(nn.Module):
    """FcaNet channel attention: pooling with (learnable) DCT bases instead of global average pooling."""

    def __init__(self, channels, height, width, reduction=4, learnable=True):
        super().__init__()
        self.weight = dct_filters(channels, height, width).requires_grad_(learnable)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.ReLU(),
                                nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x):
        pooled = (x * self.weight).sum(dim=(2, 3))
        return x * self.fc(pooled)[:, :, None, None]


class FcaDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16, size=8):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.att = MultiSpectralAttention(width, size, size)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, noisy):
        return noisy - self.conv_out(self.att(F.silu(self.conv_in(noisy))))


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    clean = torch.rand(16, 3, 8, 8)
    loader = DataLoader(TensorDataset(clean), batch_size=4, shuffle=True)
    model = FcaDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    model, optimizer, loader, lr_scheduler = accelerator.prepare(model, optimizer, loader, lr_scheduler)
    f0 = model.att.weight.detach().clone()
    for epoch in range(2):
        for (x,) in loader:
            loss = F.mse_loss(model(x + 0.1 * torch.randn_like(x)), x)
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
    accelerator.backward(F.mse_loss(model(x + 0.1 * torch.randn_like(x)), x))
    return ({"model": model, "dct_filter": model.att.weight},
            {"dct_filter_changed": not torch.equal(f0, model.att.weight),
             "dct_filter_in_state_dict": "att.weight" in model.state_dict()})

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
