import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyAutoencoder(nn.Module):
    """Stands in for a pretrained VAE: images -> 4-channel latents at half resolution."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 4, 3, padding=1))

    def encode(self, images):
        return self.encoder(images)


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, hidden=16, n_timesteps=100):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Embedding(n_timesteps, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Conv2d(channels, hidden, 3, padding=1)
        self.mid = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.out = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x, t):
        h = F.silu(self.inp(x)) + self.time_embed(t)[:, :, None, None]
        return self.out(F.silu(self.mid(h)))


def encode_latents(vae, images, scaling=0.18):
    with torch.no_grad():
        return vae.encode(images) * scaling


def train(unet, vae, loader, noise_scheduler, optimizer, lr_scheduler, ema, epochs=2):
    unet.train()
    for _ in range(epochs):
        for (images,) in loader:
            latents = encode_latents(vae, images)
            noise = torch.randn_like(latents)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, t)
            loss = F.mse_loss(unet(noisy, t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            ema.step(unet.parameters())


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.rand(32, 3, 16, 16, generator=g) * 2 - 1), batch_size=8, shuffle=True,
                        generator=g)
    vae = TinyAutoencoder().eval()
    vae.requires_grad_(False)
    unet = TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=8)
    ema = EMAModel(unet.parameters(), decay=0.99)
    before = unet.inp.weight.detach().clone()
    train(unet, vae, loader, noise_scheduler, optimizer, lr_scheduler, ema)
    return ({"unet": unet},
            {"unet_changed": not torch.equal(before, unet.inp.weight),
             "vae_has_grad": any(p.grad is not None for p in vae.parameters()), "ema_steps": ema.optimization_step})

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
