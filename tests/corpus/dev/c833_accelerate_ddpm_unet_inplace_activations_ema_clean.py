import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


def sinusoidal(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim, groups=4):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.norm1(x)
        h = F.silu(h, inplace=True)
        h = self.conv1(h)
        h += self.temb_proj(F.silu(temb))[:, :, None, None]
        h = F.silu(self.norm2(h), inplace=True)
        h = self.conv2(h)
        h += self.skip(x)
        return h.mul_(1 / math.sqrt(2))


class UNet2DModel(ModelMixin):
    def __init__(self, ch=16, temb_dim=32):
        super().__init__()
        self.temb_dim = temb_dim
        self.time_embedding = nn.Sequential(nn.Linear(temb_dim, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.down = ResBlock(ch, 2 * ch, temb_dim)
        self.pool = nn.AvgPool2d(2)
        self.mid = ResBlock(2 * ch, 2 * ch, temb_dim)
        self.up = ResBlock(4 * ch, ch, temb_dim)
        self.conv_out = nn.Sequential(nn.GroupNorm(4, ch), nn.SiLU(inplace=True), nn.Conv2d(ch, 3, 3, padding=1))

    def forward(self, sample, timesteps):
        temb = self.time_embedding(sinusoidal(timesteps, self.temb_dim))
        h0 = self.down(self.conv_in(sample), temb)
        h1 = self.mid(self.pool(h0), temb)
        h = torch.cat([F.interpolate(h1, scale_factor=2.0, mode="nearest"), h0], dim=1)
        return self.conv_out(self.up(h, temb))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = UNet2DModel()
    ema = EMAModel(model.parameters(), decay=0.99)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
    images = torch.rand(20, 3, 8, 8) * 2 - 1
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()
    for (clean,) in loader:
        with accelerator.accumulate(model):
            noise = torch.randn_like(clean)
            t = torch.randint(0, 100, (clean.shape[0],))
            noisy = scheduler.add_noise(clean, noise, t)
            loss = F.mse_loss(model(noisy, t), noise)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        if accelerator.sync_gradients:
            ema.step(model.parameters())
    return {"unet": accelerator.unwrap_model(model)}

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
