import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config

STAGE2_CONFIG = {"trainable_modules": ["motion_modules."], "lr": 1e-4, "max_steps": 4, "frames": 3}


class SpatialBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.GroupNorm(4, dim)
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x):
        return x + self.conv(F.silu(self.norm(x)))


class TemporalAttention(nn.Module):
    """Attention across frames at every spatial location (the 'motion module' added in stage 2)."""

    def __init__(self, dim, frames):
        super().__init__()
        self.frames = frames
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        bf, c, h, w = x.shape
        seq = x.view(bf // self.frames, self.frames, c, h * w).permute(0, 3, 1, 2).reshape(-1, self.frames, c)
        q, k, v = self.qkv(seq).chunk(3, dim=-1)
        attn = torch.softmax(q @ k.transpose(-1, -2) / c ** 0.5, dim=-1)
        out = self.out(attn @ v).view(bf // self.frames, h * w, self.frames, c).permute(0, 2, 3, 1)
        return x + out.reshape(bf, c, h, w)


class VideoUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, dim=8, frames=3, num_train_timesteps=50):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, dim, 3, padding=1)
        self.time_embedding = nn.Embedding(num_train_timesteps, dim)
        self.down_blocks = nn.ModuleList([SpatialBlock(dim), SpatialBlock(dim)])
        self.temporal_attn = nn.ModuleList([TemporalAttention(dim, frames), TemporalAttention(dim, frames)])
        self.conv_out = nn.Conv2d(dim, channels, 3, padding=1)

    def forward(self, sample, timesteps):
        h = self.conv_in(sample) + self.time_embedding(timesteps)[:, :, None, None]
        for spatial, temporal in zip(self.down_blocks, self.temporal_attn):
            h = temporal(spatial(h))
        return self.conv_out(h)


def select_trainable(model, patterns):
    model.requires_grad_(False)
    for name, param in model.named_parameters():
        if any(p in name for p in patterns):
            param.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def main():
    set_seed(0)
    cfg = STAGE2_CONFIG
    accelerator = Accelerator(gradient_accumulation_steps=1)
    unet = VideoUNet(frames=cfg["frames"])
    noise_scheduler = DDPMScheduler(num_train_timesteps=50)
    trainable = select_trainable(unet, cfg["trainable_modules"])
    print(f"Total trainable params {sum(p.numel() for p in trainable)}")
    optimizer = torch.optim.AdamW(trainable, lr=cfg["lr"])
    unet, optimizer = accelerator.prepare(unet, optimizer)
    videos = torch.randn(4 * cfg["frames"], 4, 4, 4)
    temporal_before = unet.temporal_attn[0].qkv.weight.detach().clone()
    spatial_before = unet.down_blocks[0].conv.weight.detach().clone()
    for step in range(cfg["max_steps"]):
        latents = videos[step % 4 * cfg["frames"]:][: 2 * cfg["frames"]]
        noise = torch.randn_like(latents)
        t = torch.randint(0, 50, (latents.shape[0] // cfg["frames"],)).repeat_interleave(cfg["frames"])
        loss = F.mse_loss(unet(noise_scheduler.add_noise(latents, noise, t), t), noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    facts = {"temporal_changed": not torch.equal(temporal_before, unet.temporal_attn[0].qkv.weight),
             "spatial_frozen": torch.equal(spatial_before, unet.down_blocks[0].conv.weight)}
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
