import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler
from torch.utils.data import DataLoader, TensorDataset


class TinyVAE(nn.Module):
    def __init__(self, latent=4):
        super().__init__()
        self.enc = nn.Conv2d(1, 2 * latent, 4, stride=2, padding=1)
        self.dec = nn.ConvTranspose2d(latent, 1, 4, stride=2, padding=1)

    def encode(self, x):
        mean, logvar = self.enc(x).chunk(2, dim=1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class LatentDenoiser(nn.Module):
    def __init__(self, latent=4, ch=16):
        super().__init__()
        self.conv_in = nn.Conv2d(latent, ch, 3, padding=1)
        self.t_proj = nn.Linear(1, ch)
        self.mid = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv_out = nn.Conv2d(ch, latent, 3, padding=1)

    def forward(self, z, t):
        h = F.silu(self.conv_in(z)) + self.t_proj(t.float()[:, None] / 1000)[:, :, None, None]
        return self.conv_out(F.silu(self.mid(h)))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    vae, unet = TinyVAE(), LatentDenoiser()
    vae.requires_grad_(False)
    vae.eval()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=5e-4)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.rand(16, 1, 16, 16, generator=g)), batch_size=4, shuffle=True, generator=g)
    unet, optimizer, loader = accelerator.prepare(unet, optimizer, loader)
    scale_factor = 0.18215
    v0, u0 = vae.enc.weight.detach().clone(), unet.conv_in.weight.detach().clone()
    for epoch in range(2):
        for (spectrograms,) in loader:
            with accelerator.accumulate(unet):
                with torch.no_grad():
                    latents = vae.encode(spectrograms).detach() * scale_factor
                noise = torch.randn_like(latents)
                t = torch.randint(0, 1000, (latents.shape[0],))
                loss = F.mse_loss(unet(noise_scheduler.add_noise(latents, noise, t), t), noise)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
    unet_changed = not torch.equal(u0, unet.conv_in.weight)
    latents = vae.encode(spectrograms[:1]) * scale_factor
    F.mse_loss(unet(latents, torch.tensor([10])), torch.zeros_like(latents)).backward()
    return {"vae": vae, "unet": unet}, {"vae_changed": not torch.equal(v0, vae.enc.weight), "unet_changed": unet_changed}

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
