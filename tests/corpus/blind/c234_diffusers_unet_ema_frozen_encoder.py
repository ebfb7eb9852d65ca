import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyAutoencoder(nn.Module):
    """Stands in for a pretrained VAE: only its encoder is used, frozen, to produce latents."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Conv2d(3, 4, 2, stride=2)
        self.scaling_factor = 0.18215

    def encode(self, x):
        return self.encoder(x) * self.scaling_factor


class LatentUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, in_channels=4, hidden=16, temb_dim=16):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(temb_dim, temb_dim), nn.SiLU(), nn.Linear(temb_dim, hidden))
        self.conv_in = nn.Conv2d(in_channels, hidden, 3, padding=1)
        self.block = nn.Sequential(nn.GroupNorm(4, hidden), nn.SiLU(), nn.Conv2d(hidden, hidden, 3, padding=1))
        self.conv_out = nn.Conv2d(hidden, in_channels, 3, padding=1)

    def timestep_features(self, t):
        half = self.config.temb_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
        ang = t.float()[:, None] * freqs[None]
        return torch.cat([ang.sin(), ang.cos()], dim=-1)

    def forward(self, sample, timesteps):
        h = self.conv_in(sample) + self.time_mlp(self.timestep_features(timesteps))[:, :, None, None]
        return self.conv_out(h + self.block(h))


def main():
    torch.manual_seed(0)
    vae = TinyAutoencoder().requires_grad_(False).eval()
    unet = LatentUNet()
    ema_unet = EMAModel(unet.parameters(), decay=0.999)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100, beta_schedule="scaled_linear")
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=8)
    loader = DataLoader(TensorDataset(torch.rand(16, 3, 8, 8)), batch_size=4, shuffle=True)

    unet.train()
    for epoch in range(2):
        for (pixel_values,) in loader:
            with torch.no_grad():
                latents = vae.encode(pixel_values)
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],)).long()
            noisy_latents = noise_scheduler.add_noise(latents, noise, timesteps)
            model_pred = unet(noisy_latents, timesteps)
            loss = F.mse_loss(model_pred.float(), noise.float(), reduction="mean")
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            ema_unet.step(unet.parameters())
    ema_moved = not torch.equal(ema_unet.shadow_params[0], unet.time_mlp[0].weight.detach())
    # gradient check on one more batch (the loop above leaves .grad cleared)
    with torch.no_grad():
        latents = vae.encode(pixel_values)
    t = torch.randint(0, 100, (latents.shape[0],))
    F.mse_loss(unet(noise_scheduler.add_noise(latents, noise, t), t), noise).backward()
    return {"unet": unet, "vae": vae}, {"ema_tracks_but_lags": ema_moved, "ema_steps": ema_unet.optimization_step}

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
