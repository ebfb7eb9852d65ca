import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

CFG = {"vocab": 40, "d": 32, "seq": 5, "img": 16, "latent_ch": 4, "timesteps": 100, "prior_weight": 1.0,
       "lr": 1e-3, "epochs": 2, "train_text_encoder": False}


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, latent_ch=4, scaling_factor=0.18215):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.SiLU(), nn.Conv2d(16, 2 * latent_ch, 3, 1, 1))

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, 1)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


class TextEncoder(nn.Module):
    def __init__(self, vocab, d, seq):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(1, seq, d))
        self.mlp = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU())

    def forward(self, ids):
        return self.mlp(self.embed(ids) + self.pos)


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, latent_ch=4, ch=16, cond_dim=32, num_timesteps=100):
        super().__init__()
        self.t_embed = nn.Embedding(num_timesteps, ch)
        self.conv_in = nn.Conv2d(latent_ch, ch, 3, padding=1)
        self.cond_proj = nn.Linear(cond_dim, ch)
        self.mid = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.conv_out = nn.Conv2d(ch, latent_ch, 3, padding=1)

    def forward(self, x, t, cond):
        h = self.conv_in(x) + self.t_embed(t)[:, :, None, None] + self.cond_proj(cond.mean(1))[:, :, None, None]
        return self.conv_out(self.mid(F.silu(h)))


def dreambooth_loader(cfg, n=8):
    g = torch.Generator().manual_seed(0)
    instance = torch.rand(n, 3, cfg["img"], cfg["img"], generator=g) * 2 - 1
    class_imgs = torch.rand(n, 3, cfg["img"], cfg["img"], generator=g) * 2 - 1
    inst_ids = torch.tensor([[1, 2, 3, 9, 0]]).repeat(n, 1)     # "a photo of sks dog"
    class_ids = torch.tensor([[1, 2, 3, 0, 0]]).repeat(n, 1)    # "a photo of dog"
    return DataLoader(TensorDataset(instance, inst_ids, class_imgs, class_ids), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    vae = TinyVAE(latent_ch=CFG["latent_ch"])
    text_encoder = TextEncoder(CFG["vocab"], CFG["d"], CFG["seq"])
    unet = CondUNet(latent_ch=CFG["latent_ch"], cond_dim=CFG["d"], num_timesteps=CFG["timesteps"])
    vae.requires_grad_(False)
    if not CFG["train_text_encoder"]:
        text_encoder.requires_grad_(False)
    noise_scheduler = DDPMScheduler(num_train_timesteps=CFG["timesteps"])
    params = list(unet.parameters()) + (list(text_encoder.parameters()) if CFG["train_text_encoder"] else [])
    optimizer = torch.optim.AdamW(params, lr=CFG["lr"])
    loader = dreambooth_loader(CFG)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    ema = EMAModel(unet.parameters(), decay=0.99)
    u0 = unet.conv_in.weight.detach().clone()
    t0 = text_encoder.embed.weight.detach().clone()
    v0 = vae.encoder[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        for inst, inst_ids, cls, cls_ids in loader:
            pixels, ids = torch.cat([inst, cls]), torch.cat([inst_ids, cls_ids])
            latents = vae.encode(pixels) * vae.config.scaling_factor
            noise = torch.randn_like(latents)
            t = torch.randint(0, CFG["timesteps"], (latents.shape[0],))
            pred = unet(noise_scheduler.add_noise(latents, noise, t), t, text_encoder(ids))
            pred_inst, pred_prior = pred.chunk(2)
            noise_inst, noise_prior = noise.chunk(2)
            loss = F.mse_loss(pred_inst, noise_inst) + CFG["prior_weight"] * F.mse_loss(pred_prior, noise_prior)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            ema.step(unet.parameters())
            optimizer.zero_grad()
    return {"unet": unet}, {
        "unet_changed": not torch.equal(u0, unet.conv_in.weight),
        "text_encoder_changed": not torch.equal(t0, text_encoder.embed.weight),
        "vae_changed": not torch.equal(v0, vae.encoder[0].weight),
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
