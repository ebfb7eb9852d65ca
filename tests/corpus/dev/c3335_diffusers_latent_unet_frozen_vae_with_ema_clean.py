import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyAutoencoderKL(ModelMixin):
    @register_to_config
    def __init__(self, latent_channels=4, scaling_factor=0.5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 4, 2, 1), nn.SiLU(), nn.Conv2d(16, 2 * latent_channels, 3, 1, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(latent_channels, 16, 4, 2, 1), nn.SiLU(),
                                     nn.Conv2d(16, 3, 3, 1, 1))

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=4, width=32, num_timesteps=100):
        super().__init__()
        self.t_embed = nn.Embedding(num_timesteps, width)
        self.down = nn.Conv2d(in_channels, width, 3, padding=1)
        self.mid = nn.Sequential(nn.GroupNorm(4, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.up = nn.Conv2d(width, in_channels, 3, padding=1)

    def forward(self, sample, timesteps):
        h = self.down(sample) + self.t_embed(timesteps)[:, :, None, None]
        h = h + self.mid(h)
        return self.up(F.silu(h))


def images(n=24):
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(n, 3, 8, 8, generator=g) * 2 - 1)


def main():
    torch.manual_seed(0)
    vae, unet = TinyAutoencoderKL(), TinyUNet()
    vae.requires_grad_(False)
    vae.eval()
    ema = EMAModel(unet.parameters(), decay=0.99)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    loader = DataLoader(images(), batch_size=8, shuffle=True)
    shadow0 = ema.shadow_params[0].clone()
    unet.train()
    for epoch in range(2):
        for (pixels,) in loader:
            with torch.no_grad():
                latents = vae.encode(pixels) * vae.config.scaling_factor
            noise = torch.randn_like(latents)
            t = torch.randint(0, 100, (latents.size(0),))
            noisy = noise_scheduler.add_noise(latents, noise, t)
            loss = F.mse_loss(unet(noisy, t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ema.step(unet.parameters())
    facts = {"ema_moved": not torch.equal(shadow0, ema.shadow_params[0]),
             "vae_frozen": not any(p.requires_grad for p in vae.parameters())}
    return {"unet": unet, "vae": vae}, facts

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
