import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset
from diffusers import DDPMScheduler

CFG = {"vocab": 40, "d": 32, "seq": 5, "latent_ch": 4, "latent": 8, "timesteps": 100, "lr": 1e-3,
       "trainable": ("attn", "token_embedding")}


class CrossAttention(nn.Module):
    def __init__(self, ch, cond_dim):
        super().__init__()
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(cond_dim, ch)
        self.to_v = nn.Linear(cond_dim, ch)
        self.to_out = nn.Linear(ch, ch)

    def forward(self, h, cond):
        B, C, H, W = h.shape
        q = self.to_q(h.flatten(2).transpose(1, 2))
        a = torch.softmax(q @ self.to_k(cond).transpose(1, 2) / C ** 0.5, -1) @ self.to_v(cond)
        return h + self.to_out(a).transpose(1, 2).reshape(B, C, H, W)


class SmallUNet(nn.Module):
    def __init__(self, latent_ch, ch, cond_dim, timesteps):
        super().__init__()
        self.time_embedding = nn.Embedding(timesteps, ch)
        self.conv_in = nn.Conv2d(latent_ch, ch, 3, padding=1)
        self.attention = CrossAttention(ch, cond_dim)
        self.resnet = nn.Sequential(nn.GroupNorm(4, ch), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1))
        self.conv_out = nn.Conv2d(ch, latent_ch, 3, padding=1)

    def forward(self, x, t, cond):
        h = self.conv_in(x) + self.time_embedding(t)[:, :, None, None]
        h = self.attention(h, cond)
        return self.conv_out(h + self.resnet(h))


class TextEncoder(nn.Module):
    def __init__(self, vocab, d, seq):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Parameter(torch.zeros(1, seq, d))
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, ids):
        return self.final_layer_norm(self.token_embedding(ids) + self.position_embedding)


def freeze_except(module, patterns):
    """Only parameters whose name contains one of `patterns` are trained (the rest stay pretrained)."""
    for name, p in module.named_parameters():
        p.requires_grad_(any(pat in name for pat in patterns))


class DreamBoothModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.text_encoder = TextEncoder(cfg["vocab"], cfg["d"], cfg["seq"])
        self.unet = SmallUNet(cfg["latent_ch"], 16, cfg["d"], cfg["timesteps"])
        self.noise_scheduler = DDPMScheduler(num_train_timesteps=cfg["timesteps"])
        freeze_except(self, cfg["trainable"])

    def training_step(self, batch, batch_idx):
        latents, ids = batch
        noise = torch.randn_like(latents)
        t = torch.randint(0, self.cfg["timesteps"], (latents.shape[0],))
        pred = self.unet(self.noise_scheduler.add_noise(latents, noise, t), t, self.text_encoder(ids))
        return F.mse_loss(pred, noise)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.cfg["lr"])


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(12, CFG["latent_ch"], CFG["latent"], CFG["latent"], generator=g) * 0.5
    ids = torch.tensor([[1, 2, 3, 39, 0]]).repeat(12, 1)   # "a photo of sks dog"
    module = DreamBoothModule(CFG)
    a0 = module.unet.attention.to_k.weight.detach().clone()
    e0 = module.text_encoder.token_embedding.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, DataLoader(TensorDataset(latents, ids), batch_size=4, shuffle=True, generator=g))
    return {"unet": module.unet}, {
        "unet_attention_changed": not torch.equal(a0, module.unet.attention.to_k.weight),
        "token_embedding_changed": not torch.equal(e0, module.text_encoder.token_embedding.weight),
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
