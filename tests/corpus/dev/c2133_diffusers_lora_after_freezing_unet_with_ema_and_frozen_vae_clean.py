import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class LoRALinear(nn.Module):
    def __init__(self, base, rank=4):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x))


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, latent_ch=4, hidden=32, text_dim=8):
        super().__init__()
        self.t_embed = nn.Sequential(nn.Linear(1, hidden), nn.SiLU())
        self.to_k = nn.Linear(text_dim, hidden)
        self.proj_in = nn.Linear(latent_ch, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.proj_out = nn.Linear(hidden, latent_ch)

    def forward(self, z, t, text):
        h = self.proj_in(z) + self.t_embed(t.float()[:, None] / 100) + self.to_k(text)
        return self.proj_out(F.silu(self.attn_out(F.silu(h))))


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, in_dim=12, latent_ch=4):
        super().__init__()
        self.encoder = nn.Linear(in_dim, 2 * latent_ch)

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=-1)
        return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)


def add_lora(unet, targets=("attn_out", "proj_out")):
    for name in targets:
        setattr(unet, name, LoRALinear(getattr(unet, name)))


def main():
    torch.manual_seed(0)
    unet, vae = TinyUNet(), TinyVAE()
    unet.requires_grad_(False)
    vae.requires_grad_(False)
    add_lora(unet)
    lora_params = [p for n, p in unet.named_parameters() if "lora_" in n]
    optimizer = torch.optim.AdamW(lora_params, lr=1e-3)
    lr_sched = get_scheduler("constant", optimizer)
    ema = EMAModel(lora_params, decay=0.99)
    noise_sched = DDPMScheduler(num_train_timesteps=100)
    pixels, text = torch.randn(32, 12), torch.randn(32, 8)
    for step in range(4):
        with torch.no_grad():
            latents = vae.encode(pixels[step * 8:(step + 1) * 8]) * 0.18
        noise = torch.randn_like(latents)
        t = torch.randint(0, 100, (8,))
        pred = unet(noise_sched.add_noise(latents, noise, t), t, text[step * 8:(step + 1) * 8])
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
        ema.step(lora_params)
    return ({"unet": unet},
            {"lora_B_changed": bool(unet.attn_out.lora_B.weight.abs().sum() > 0),
             "ema_tracks_lora": not torch.equal(ema.shadow_params[1], torch.zeros_like(ema.shadow_params[1]))})

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
