import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler

CFG = {"trainable_modules": ["temporal"], "lr": 1e-3, "steps": 6, "frames": 4, "latent_ch": 4, "size": 8}


class TemporalAttention(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(4, ch)
        self.attn = nn.MultiheadAttention(ch, 4, batch_first=True)
        self.proj = nn.Linear(ch, ch)

    def forward(self, x):                      # x: (B, C, F, H, W), attention across frames
        B, C, Fr, H, W = x.shape
        h = self.norm(x).permute(0, 3, 4, 2, 1).reshape(B * H * W, Fr, C)
        h, _ = self.attn(h, h, h)
        h = self.proj(h).reshape(B, H, W, Fr, C).permute(0, 4, 3, 1, 2)
        return x + h


class SpatioTemporalBlock(nn.Module):
    def __init__(self, ch, emb_dim):
        super().__init__()
        self.spatial = nn.Conv3d(ch, ch, kernel_size=(1, 3, 3), padding=(0, 1, 1))
        self.emb = nn.Linear(emb_dim, ch)
        self.temporal = TemporalAttention(ch)

    def forward(self, x, emb):
        x = x + F.silu(self.spatial(x)) + self.emb(emb)[:, :, None, None, None]
        return self.temporal(x)


class VideoUNet(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=4, width=32, emb_dim=32, num_blocks=2):
        super().__init__()
        self.conv_in = nn.Conv3d(in_channels, width, kernel_size=(1, 3, 3), padding=(0, 1, 1))
        self.time_embedding = nn.Sequential(nn.Linear(1, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.fps_embedding = nn.Sequential(nn.Linear(1, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.blocks = nn.ModuleList(SpatioTemporalBlock(width, emb_dim) for _ in range(num_blocks))
        self.conv_out = nn.Conv3d(width, in_channels, kernel_size=(1, 3, 3), padding=(0, 1, 1))

    def forward(self, sample, timesteps, fps):
        emb = self.time_embedding(timesteps.float()[:, None] / 1000) + self.fps_embedding(fps.float()[:, None] / 30)
        h = self.conv_in(sample)
        for blk in self.blocks:
            h = blk(h, emb)
        return self.conv_out(h)


def unfreeze_modules(unet, trainable_modules):
    for name, module in unet.named_modules():
        if any(key in name for key in trainable_modules):
            module.requires_grad = True


def count_trainable(unet):
    total = sum(p.numel() for p in unet.parameters())
    trainable = sum(p.numel() for p in unet.parameters() if p.requires_grad)
    return trainable, total


def latent_clips(cfg, n=4):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(n, cfg["latent_ch"], 1, cfg["size"], cfg["size"], generator=g)
    drift = torch.linspace(0, 1, cfg["frames"]).view(1, 1, -1, 1, 1)
    return base + drift * torch.randn(n, cfg["latent_ch"], 1, 1, 1, generator=g)


def main():
    torch.manual_seed(0)
    unet = VideoUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    unet.requires_grad_(False)
    unfreeze_modules(unet, CFG["trainable_modules"])
    unet.fps_embedding.requires_grad_(True)          # new conditioning, always trained
    trainable, total = count_trainable(unet)
    print(f"training {trainable}/{total} parameters")
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=CFG["lr"], weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    temporal0 = unet.blocks[0].temporal.attn.in_proj_weight.detach().clone()
    fps0 = unet.fps_embedding[0].weight.detach().clone()
    latents = latent_clips(CFG)
    unet.train()
    for step in range(CFG["steps"]):
        optimizer.zero_grad()
        noise = torch.randn_like(latents)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.size(0),))
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        fps = torch.full((latents.size(0),), 8.0)
        loss = F.mse_loss(unet(noisy, timesteps, fps), noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        if step % 2 == 0:
            print(f"step {step} loss {loss.item():.4f} trainable {sum(p.numel() for p in params)}")
    return {"unet": unet}, {
        "temporal_changed": not torch.equal(temporal0, unet.blocks[0].temporal.attn.in_proj_weight),
        "fps_embedding_changed": not torch.equal(fps0, unet.fps_embedding[0].weight),
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
