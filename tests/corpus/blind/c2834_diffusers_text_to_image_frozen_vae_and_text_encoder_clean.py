import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, latent_channels=4, scaling_factor=0.18215):
        super().__init__()
        self.encoder = nn.Conv2d(channels, 2 * latent_channels, 3, stride=2, padding=1)
        self.decoder = nn.ConvTranspose2d(latent_channels, channels, 4, stride=2, padding=1)

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=20, dim=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.embed(ids))


class TinyCondUNet(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=4, dim=8, cross_dim=8, num_train_timesteps=100):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, dim, 3, padding=1)
        self.time_embed = nn.Embedding(num_train_timesteps, dim)
        self.to_k, self.to_v = nn.Linear(cross_dim, dim), nn.Linear(cross_dim, dim)
        self.conv_out = nn.Conv2d(dim, in_channels, 3, padding=1)

    def forward(self, sample, timesteps, encoder_hidden_states):
        h = self.conv_in(sample) + self.time_embed(timesteps)[:, :, None, None]
        b, c, hh, ww = h.shape
        q = h.flatten(2).transpose(1, 2)
        attn = torch.softmax(q @ self.to_k(encoder_hidden_states).transpose(1, 2) / c ** 0.5, dim=-1)
        h = h + (attn @ self.to_v(encoder_hidden_states)).transpose(1, 2).reshape(b, c, hh, ww)
        return self.conv_out(F.silu(h))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    vae, text_encoder, unet = TinyVAE(), TinyTextEncoder(), TinyCondUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    vae.requires_grad_(False)
    text_encoder.requires_grad_(False)
    ema_unet = EMAModel(unet.parameters(), decay=0.99)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer=optimizer, num_warmup_steps=2)
    unet, optimizer, lr_scheduler = accelerator.prepare(unet, optimizer, lr_scheduler)
    images, captions = torch.rand(8, 3, 8, 8) * 2 - 1, torch.randint(0, 20, (8, 5))
    unet_before = unet.conv_in.weight.detach().clone()
    vae_before = vae.encoder.weight.detach().clone()
    for step in range(8):
        idx = torch.arange(step * 2, step * 2 + 2) % 8
        with accelerator.accumulate(unet):
            with torch.no_grad():
                latents = vae.encode(images[idx]) * vae.config.scaling_factor
                encoder_hidden_states = text_encoder(captions[idx])
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            loss = F.mse_loss(unet(noisy, timesteps, encoder_hidden_states), noise)
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
        if accelerator.sync_gradients:
            ema_unet.step(unet.parameters())
    facts = {"unet_changed": not torch.equal(unet_before, unet.conv_in.weight),
             "vae_frozen": torch.equal(vae_before, vae.encoder.weight),
             "ema_steps": ema_unet.optimization_step}
    return {}, facts

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
