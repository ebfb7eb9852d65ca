import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, latent=4):
        super().__init__()
        self.enc = nn.Conv2d(channels, 2 * latent, 3, stride=2, padding=1)
        self.scaling_factor = 0.18215

    def encode(self, x):
        mean, logvar = self.enc(x).chunk(2, dim=1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.mix(self.emb(ids)).mean(1)


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, latent=4, width=16, cond_dim=16):
        super().__init__()
        self.inp = nn.Conv2d(latent, width, 3, padding=1)
        self.cond = nn.Linear(cond_dim + 1, width)
        self.out = nn.Conv2d(width, latent, 3, padding=1)

    def forward(self, x, t, text):
        c = self.cond(torch.cat([text, t.float()[:, None] / 1000], dim=-1))
        return self.out(F.silu(self.inp(x) + c[:, :, None, None]))


def freeze(*modules):
    for m in modules:
        m.requires_grad_(False)
        m.eval()


def main():
    torch.manual_seed(0)
    vae, text_encoder, unet = TinyVAE(), TinyTextEncoder(), CondUNet()
    freeze(vae, text_encoder)
    ema = EMAModel(unet.parameters(), decay=0.99)
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear")
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(13)
    data = TensorDataset(torch.rand(16, 3, 8, 8, generator=g) * 2 - 1, torch.randint(0, 30, (16, 6), generator=g))
    unet0 = unet.inp.weight.detach().clone()
    unet.train()
    for images, ids in DataLoader(data, batch_size=4, shuffle=True):
        optimizer.zero_grad()
        with torch.no_grad():
            latents = vae.encode(images) * vae.scaling_factor
            text = text_encoder(ids)
        noise = torch.randn_like(latents)
        t = torch.randint(0, 1000, (latents.size(0),))
        noisy = scheduler.add_noise(latents, noise, t)
        loss = F.mse_loss(unet(noisy, t, text), noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        ema.step(unet.parameters())
    return {"unet": unet}, {"unet_changed": not torch.equal(unet0, unet.inp.weight),
                            "ema_moved": not torch.equal(ema.shadow_params[0], unet0)}

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
