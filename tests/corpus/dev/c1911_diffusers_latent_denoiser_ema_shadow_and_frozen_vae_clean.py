import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyVAEEncoder(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, latent_channels=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_channels, 8, 3, stride=2, padding=1), nn.SiLU(),
                                  nn.Conv2d(8, 2 * latent_channels, 3, padding=1))

    def encode(self, x):
        mean, logvar = self.conv(x).chunk(2, dim=1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class TimeEmbedding(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-torch.arange(half) * (4.0 / half))
        angles = t.float()[:, None] * freqs[None]
        return self.mlp(torch.cat([angles.sin(), angles.cos()], dim=1))


class LatentDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, latent_channels=4, width=16):
        super().__init__()
        self.time_embed = TimeEmbedding(width)
        self.conv_in = nn.Conv2d(latent_channels, width, 3, padding=1)
        self.mid = nn.Sequential(nn.GroupNorm(4, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.conv_out = nn.Conv2d(width, latent_channels, 3, padding=1)

    def forward(self, sample, timesteps):
        h = self.conv_in(sample) + self.time_embed(timesteps)[:, :, None, None]
        return self.conv_out(self.mid(h) + h)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    vae = TinyVAEEncoder()
    vae.requires_grad_(False)
    unet = LatentDenoiser()
    ema_unet = EMAModel(unet.parameters(), decay=0.999)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    images = torch.rand(16, 3, 16, 16)
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    unet, optimizer, loader, lr_scheduler = accelerator.prepare(unet, optimizer, loader, lr_scheduler)
    w0 = unet.conv_in.weight.detach().clone()
    shadow0 = ema_unet.shadow_params[1].clone()
    for epoch in range(2):
        for (pixels,) in loader:
            with accelerator.accumulate(unet):
                with torch.no_grad():
                    latents = vae.encode(pixels) * 0.18215
                noise = torch.randn_like(latents)
                timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
                noisy = noise_scheduler.add_noise(latents, noise, timesteps)
                loss = F.mse_loss(unet(noisy, timesteps), noise)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(unet.parameters(), 1.0)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                ema_unet.step(unet.parameters())
    accelerator.backward(F.mse_loss(unet(noisy, timesteps), noise))
    return ({"unet": unet, "vae": vae},
            {"unet_changed": not torch.equal(w0, unet.conv_in.weight),
             "ema_changed": not torch.equal(shadow0, ema_unet.shadow_params[1]),
             "vae_requires_grad": any(p.requires_grad for p in vae.parameters())})

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
