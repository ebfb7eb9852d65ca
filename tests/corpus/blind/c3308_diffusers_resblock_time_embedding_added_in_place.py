import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


def sinusoidal(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
    ang = t.float()[:, None] * freqs[None]
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


class ResnetBlock(nn.Module):
    def __init__(self, c_in, c_out, t_dim):
        super().__init__()
        self.norm1 = nn.GroupNorm(4, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time_proj = nn.Linear(t_dim, c_out)
        self.norm2 = nn.GroupNorm(4, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.gate = nn.Conv2d(c_out, c_out, 1)

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        gate = torch.sigmoid(self.gate(h))
        h += self.time_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h))) * gate
        return self.skip(x) + h


class SmallUNet(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=1, base=16, t_dim=32):
        super().__init__()
        self.t_mlp = nn.Sequential(nn.Linear(t_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.conv_in = nn.Conv2d(in_channels, base, 3, padding=1)
        self.down = ResnetBlock(base, 2 * base, t_dim)
        self.up = ResnetBlock(2 * base, base, t_dim)
        self.conv_out = nn.Conv2d(base, in_channels, 3, padding=1)

    def forward(self, sample, timestep):
        temb = self.t_mlp(sinusoidal(timestep, self.config.t_dim))
        h = self.conv_in(sample)
        h = self.up(self.down(h, temb), temb)
        return self.conv_out(F.silu(h))


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = (torch.rand(24, 1, 8, 8, generator=g) > 0.5).float() * 2 - 1
    loader = DataLoader(TensorDataset(data), batch_size=8, shuffle=True, generator=g)
    unet = SmallUNet()
    sched = DDPMScheduler(num_train_timesteps=200, beta_schedule="scaled_linear")
    optimizer = torch.optim.AdamW(unet.parameters(), lr=2e-4)
    lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 3))
    for epoch in range(2):
        for (x0,) in loader:
            noise = torch.randn_like(x0)
            t = torch.randint(0, 200, (x0.size(0),))
            loss = F.mse_loss(unet(sched.add_noise(x0, noise, t), t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()
    return {"unet": unet}

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
