import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, latent_dim=8, hidden=32, num_train_timesteps=100):
        super().__init__()
        self.time_emb = nn.Embedding(num_train_timesteps, hidden)
        self.inp = nn.Linear(latent_dim, hidden)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, latent_dim)

    def forward(self, noisy_latents, timesteps):
        return self.out(self.mid(self.inp(noisy_latents) + self.time_emb(timesteps)))


class FrozenEncoder(nn.Module):
    """Stands in for the pretrained VAE encoder: maps data to latents, never trained here."""

    def __init__(self, data_dim=16, latent_dim=8):
        super().__init__()
        self.proj = nn.Linear(data_dim, latent_dim)

    def forward(self, x):
        return torch.tanh(self.proj(x))


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    data = torch.randn(64, 16, generator=g)
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True, generator=g)
    vae = FrozenEncoder().requires_grad_(False)
    unet = TinyDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=100)
    ema_unet = EMAModel(unet.parameters(), decay=0.99)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    unet, optimizer, loader = accelerator.prepare(unet, optimizer, loader)
    for _ in range(2):
        for (x,) in loader:
            optimizer.zero_grad()
            with torch.no_grad():
                latents = vae(x)
            noise = torch.randn(latents.shape, generator=g)
            timesteps = torch.randint(0, 100, (latents.shape[0],), generator=g)
            noisy = scheduler.add_noise(latents, noise, timesteps)
            loss = F.mse_loss(unet(noisy, timesteps), noise)
            accelerator.backward(loss)
            optimizer.step()
            ema_unet.step(unet.parameters())
    facts = {"ema_differs_from_online": not torch.equal(ema_unet.shadow_params[1], unet.inp.weight)}
    return {"unet": unet}, facts

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
