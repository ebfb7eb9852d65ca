import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class ResBlock(nn.Module):
    def __init__(self, ch, t_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.t_proj = nn.Linear(t_dim, ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, t_emb):
        h = F.silu(self.conv1(x)) + self.t_proj(t_emb)[:, :, None, None]
        return x + self.conv2(F.silu(h))


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=8, num_train_timesteps=100):
        super().__init__()
        self.time_embed = nn.Embedding(num_train_timesteps, width)
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.down_blocks = nn.ModuleList([ResBlock(width, width), ResBlock(width, width)])
        self.mid_block = ResBlock(width, width)
        self.up_block = ResBlock(width, width)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timesteps, down_residuals=None, mid_residual=None):
        t = self.time_embed(timesteps)
        h = self.conv_in(sample)
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(h, t)
            skips.append(h + (down_residuals[i] if down_residuals is not None else 0))
        h = self.mid_block(h, t)
        if mid_residual is not None:
            h = h + mid_residual
        h = self.up_block(h + skips[-1], t) + skips[0]
        return self.conv_out(h)


def zero_conv(ch):
    conv = nn.Conv2d(ch, ch, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class TinyControlNet(ModelMixin):
    def __init__(self, width=8, cond_channels=1):
        super().__init__()
        self.cond_embedding = nn.Sequential(nn.Conv2d(cond_channels, width, 3, padding=1), nn.SiLU())
        self.zero_convs = nn.ModuleList([zero_conv(width) for _ in range(3)])

    @classmethod
    def from_unet(cls, unet):
        """Trainable copy of the UNet encoder (time embedding, conv_in, down and mid blocks)."""
        controlnet = cls(width=unet.config.width)
        controlnet.time_embed = copy.deepcopy(unet.time_embed)
        controlnet.conv_in = copy.deepcopy(unet.conv_in)
        controlnet.down_blocks = copy.deepcopy(unet.down_blocks)
        controlnet.mid_block = copy.deepcopy(unet.mid_block)
        return controlnet

    def forward(self, sample, timesteps, cond):
        t = self.time_embed(timesteps)
        h = self.conv_in(sample) + self.cond_embedding(cond)
        residuals = []
        for block, zc in zip(self.down_blocks, self.zero_convs):
            h = block(h, t)
            residuals.append(zc(h))
        return residuals, self.zero_convs[-1](self.mid_block(h, t))


def main():
    set_seed(0)
    accelerator = Accelerator()
    unet = TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    unet.requires_grad_(False)
    controlnet = TinyControlNet.from_unet(unet)
    controlnet.train()
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    latents_all = torch.randn(12, 4, 8, 8, generator=g)
    cond_all = (latents_all[:, :1] > 0).float()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(latents_all, cond_all), batch_size=4)
    controlnet, optimizer, loader = accelerator.prepare(controlnet, optimizer, loader)
    copy_before = controlnet.down_blocks[0].conv1.weight.detach().clone()
    for epoch in range(2):
        for latents, cond in loader:
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            down_res, mid_res = controlnet(noisy, timesteps, cond)
            pred = unet(noisy, timesteps, down_residuals=down_res, mid_residual=mid_res)
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    facts = {"controlnet_copy_changed": not torch.equal(copy_before, controlnet.down_blocks[0].conv1.weight)}
    return {"controlnet": controlnet}, facts

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
