import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


def sincos_table(n, dim):
    pos = torch.arange(n).float().unsqueeze(1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2).float() / dim)
    return torch.cat([torch.sin(pos * freq), torch.cos(pos * freq)], dim=1).unsqueeze(0)


class TinyDiT(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, sample_size=8, patch_size=2, in_channels=3, hidden_size=32, depth=2, pos_embed_type="learned"):
        super().__init__()
        self.num_patches = (sample_size // patch_size) ** 2
        self.x_embedder = nn.Conv2d(in_channels, hidden_size, patch_size, stride=patch_size)
        if pos_embed_type == "sincos":
            self.pos_embed = nn.Parameter(sincos_table(self.num_patches, hidden_size), requires_grad=False)
        else:
            self.pos_embed = nn.Parameter(torch.zeros(1, self.num_patches, hidden_size), requires_grad=False)
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.t_embedder = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.SiLU(), nn.Linear(hidden_size, hidden_size))
        self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(hidden_size, 4, 64, dropout=0.0, batch_first=True)
                                    for _ in range(depth))
        self.final = nn.Linear(hidden_size, patch_size * patch_size * in_channels)

    def forward(self, sample, timestep):
        B, C, H, W = sample.shape
        p = self.config.patch_size
        x = self.x_embedder(sample).flatten(2).transpose(1, 2) + self.pos_embed
        t = self.t_embedder(sincos_table(1000, x.size(-1))[0, timestep])
        for block in self.blocks:
            x = block(x + t.unsqueeze(1))
        x = self.final(x).view(B, H // p, W // p, p, p, C)
        return x.permute(0, 5, 1, 3, 2, 4).reshape(B, C, H, W)


def train_loop(unet, noise_scheduler, optimizer, lr_scheduler, ema, images, steps=6, bs=4):
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        clean = images[torch.randint(0, len(images), (bs,), generator=g)]
        noise = torch.randn(clean.shape, generator=g)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (bs,), generator=g)
        noisy = noise_scheduler.add_noise(clean, noise, timesteps)
        loss = F.mse_loss(unet(noisy, timesteps), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        ema.step(unet.parameters())


def main():
    torch.manual_seed(0)
    unet = TinyDiT()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=6)
    ema = EMAModel(unet.parameters(), decay=0.999)
    pos0 = unet.pos_embed.detach().clone()
    blk0 = unet.blocks[0].linear1.weight.detach().clone()
    images = torch.rand(16, 3, 8, 8)
    train_loop(unet, noise_scheduler, optimizer, lr_scheduler, ema, images)
    return {"model": unet}, {
        "pos_embed_changed": not torch.equal(pos0, unet.pos_embed),
        "blocks_changed": not torch.equal(blk0, unet.blocks[0].linear1.weight),
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
