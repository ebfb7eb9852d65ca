import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class CaptionEncoder(nn.Module):
    """Stands in for a pretrained CLIP text encoder that should stay frozen."""

    def __init__(self, vocab=20, dim=16):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tokens(ids)).mean(1)


class SRUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, in_channels=6, out_channels=3, block_channels=16, cond_dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, block_channels, 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(1, block_channels), nn.SiLU())
        self.cond_proj = nn.Linear(cond_dim, block_channels)
        self.mid = nn.Sequential(nn.GroupNorm(4, block_channels), nn.SiLU(), nn.Conv2d(block_channels, block_channels, 3, padding=1))
        self.conv_out = nn.Conv2d(block_channels, out_channels, 3, padding=1)

    def forward(self, noisy_hr, t, low_res_up, cond):
        h = self.conv_in(torch.cat([noisy_hr, low_res_up], 1))
        h = h + (self.time_mlp(t.float()[:, None] / 1000) + self.cond_proj(cond))[:, :, None, None]
        return self.conv_out(self.mid(h))


def freeze_params(module):
    for p in module.parameters():
        p.require_grad = False


def trainable_parameters(*modules):
    return [p for m in modules for p in m.parameters() if p.requires_grad]


def sr_loader(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    lr = F.avg_pool2d(hr, 2)
    caption = torch.randint(0, 20, (n, 5), generator=g)
    return DataLoader(TensorDataset(hr, lr, caption), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    unet = SRUNet()
    text_encoder = CaptionEncoder()
    freeze_params(text_encoder)
    text_encoder.eval()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(trainable_parameters(unet, text_encoder), lr=1e-3, weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant", optimizer, num_warmup_steps=0, num_training_steps=8)
    te0 = text_encoder.proj.weight.detach().clone()
    unet0 = unet.conv_in.weight.detach().clone()
    for _ in range(2):
        for hr, lr, caption in sr_loader():
            cond = text_encoder(caption)
            low_res_up = F.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)
            noise = torch.randn_like(hr)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (hr.size(0),))
            noisy = noise_scheduler.add_noise(hr, noise, t)
            loss = F.mse_loss(unet(noisy, t, low_res_up, cond), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
    return {"unet": unet, "text_encoder": text_encoder}, {
        "text_encoder_frozen": torch.equal(te0, text_encoder.proj.weight),
        "unet_changed": not torch.equal(unet0, unet.conv_in.weight),
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
