import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, latent_ch=2, scaling_factor=0.5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 2 * latent_ch, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(latent_ch, 8, 4, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 1, 3, padding=1))

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class TinyLatentUNet(ModelMixin):
    @register_to_config
    def __init__(self, latent_ch=2, ch=16):
        super().__init__()
        self.conv_in = nn.Conv2d(latent_ch, ch, 3, padding=1)
        self.time_proj = nn.Linear(1, ch)
        self.mid = nn.Sequential(nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.conv_out = nn.Conv2d(ch, latent_ch, 3, padding=1)

    def forward(self, z, t):
        h = self.conv_in(z) + self.time_proj(t.float()[:, None] / 1000.0)[:, :, None, None]
        return self.conv_out(self.mid(h) + h)


def encode_latents(vae, images):
    with torch.no_grad():
        return vae.encode(images) * vae.config.scaling_factor


def train(unet, vae, noise_scheduler, optimizer, lr_scheduler, ema, steps=6):
    for _ in range(steps):
        images = torch.randn(4, 1, 8, 8)
        latents = encode_latents(vae, images)
        noise = torch.randn_like(latents)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.size(0),))
        loss = F.mse_loss(unet(noise_scheduler.add_noise(latents, noise, t), t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        ema.step(unet.parameters())


def main():
    torch.manual_seed(0)
    vae, unet = TinyVAE(), TinyLatentUNet()
    vae.requires_grad_(False)
    vae.eval()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=2e-3)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    ema = EMAModel(unet.parameters(), decay=0.99)
    u0 = unet.conv_in.weight.detach().clone()
    v0 = vae.encoder[0].weight.detach().clone()
    train(unet, vae, noise_scheduler, optimizer, lr_scheduler, ema)
    return {"unet": unet}, {
        "unet_changed": not torch.equal(u0, unet.conv_in.weight),
        "vae_unchanged": torch.equal(v0, vae.encoder[0].weight),
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
