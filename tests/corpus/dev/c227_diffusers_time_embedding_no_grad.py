import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, ConfigMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


def sinusoidal_embedding(timesteps, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    args = timesteps.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, t_freq):
        return self.linear_2(F.silu(self.linear_1(t_freq)))


class ResBlock(nn.Module):
    def __init__(self, ch, temb_dim):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(4, ch), nn.Conv2d(ch, ch, 3, padding=1)
        self.time_proj = nn.Linear(temb_dim, ch)
        self.norm2, self.conv2 = nn.GroupNorm(4, ch), nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_proj(F.silu(temb))[:, :, None, None]
        return x + self.conv2(F.silu(self.norm2(h)))


class TinyUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, in_channels=1, block_channels=8, time_embed_dim=16):
        super().__init__()
        self.time_embedding = TimestepEmbedding(block_channels, time_embed_dim)
        self.conv_in = nn.Conv2d(in_channels, block_channels, 3, padding=1)
        self.down = ResBlock(block_channels, time_embed_dim)
        self.mid = ResBlock(block_channels, time_embed_dim)
        self.conv_out = nn.Conv2d(block_channels, in_channels, 3, padding=1)

    def get_time_embed(self, timesteps):
        # the timestep features are fixed, no need to track them
        with torch.no_grad():
            t_freq = sinusoidal_embedding(timesteps, self.config.block_channels)
            temb = self.time_embedding(t_freq)
        return temb

    def forward(self, sample, timestep):
        temb = self.get_time_embed(timestep)
        h = self.conv_in(sample)
        h = self.mid(self.down(h, temb), temb)
        return self.conv_out(h)


def train_loop(unet, noise_scheduler, loader, optimizer, lr_scheduler, epochs=2):
    unet.train()
    for _ in range(epochs):
        for (clean_images,) in loader:
            noise = torch.randn_like(clean_images)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (clean_images.shape[0],))
            noisy_images = noise_scheduler.add_noise(clean_images, noise, timesteps)
            noise_pred = unet(noisy_images, timesteps)
            loss = F.mse_loss(noise_pred, noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    unet = TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    loader = DataLoader(TensorDataset(torch.rand(16, 1, 8, 8) * 2 - 1), batch_size=8, shuffle=True)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 2))
    train_loop(unet, noise_scheduler, loader, optimizer, lr_scheduler)
    loss = F.mse_loss(unet(torch.randn(4, 1, 8, 8), torch.tensor([1, 10, 50, 99])), torch.randn(4, 1, 8, 8))
    loss.backward()
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
