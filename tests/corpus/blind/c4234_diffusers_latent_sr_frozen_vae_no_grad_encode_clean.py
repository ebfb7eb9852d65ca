import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyAutoencoderKL(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, in_channels=3, latent_channels=4, scaling_factor=0.18215):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_channels, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 2 * latent_channels, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(latent_channels, 8, 4, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, in_channels, 1))

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, 1)
        return mean + torch.exp(0.5 * logvar.clamp(-10, 10)) * torch.randn_like(mean)


class LatentSRUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, latent_channels=4, cond_channels=3, width=16):
        super().__init__()
        self.inp = nn.Conv2d(latent_channels + cond_channels, width, 3, padding=1)
        self.temb = nn.Linear(1, width)
        self.mid = nn.Sequential(nn.GroupNorm(4, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.out = nn.Conv2d(width, latent_channels, 3, padding=1)

    def forward(self, noisy_latents, t, low_res):
        h = self.inp(torch.cat([noisy_latents, low_res], 1)) + self.temb(t.float()[:, None] / 1000)[:, :, None, None]
        return self.out(self.mid(h))


def paired_images(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    lr = F.avg_pool2d(hr, 2)
    return DataLoader(TensorDataset(hr, lr), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    vae, unet = TinyAutoencoderKL(), LatentSRUNet()
    vae.requires_grad_(False)
    vae.eval()
    ema_unet = EMAModel(unet.parameters(), decay=0.999)
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant", optimizer)
    vae0, unet0 = vae.encoder[0].weight.detach().clone(), unet.inp.weight.detach().clone()
    for _ in range(2):
        for hr, lr in paired_images():
            with torch.no_grad():
                latents = vae.encode(hr) * vae.config.scaling_factor
            noise = torch.randn_like(latents)
            t = torch.randint(0, scheduler.config.num_train_timesteps, (latents.size(0),))
            pred = unet(scheduler.add_noise(latents, noise, t), t, lr)
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            ema_unet.step(unet.parameters())
    return {"unet": unet, "vae": vae}, {
        "unet_changed": not torch.equal(unet0, unet.inp.weight),
        "vae_unchanged": torch.equal(vae0, vae.encoder[0].weight),
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
