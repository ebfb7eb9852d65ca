import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

CFG = {"vocab": 30, "text_dim": 16, "channels": 8, "p_uncond": 0.2, "lr": 1e-3, "steps": 8, "batch": 8}


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tok(ids).mean(1))


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=8, cond_dim=16):
        super().__init__()
        self.inp = nn.Conv2d(1, channels, 3, padding=1)
        self.cond = nn.Linear(cond_dim + 1, channels)
        self.out = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, x, t, cond):
        c = self.cond(torch.cat([cond, t.float().unsqueeze(-1) / 1000.0], -1))
        return self.out(F.silu(self.inp(x) + c[:, :, None, None]))


def freeze_conditioning(text_encoder):
    """The pretrained text encoder stays fixed; only the UNet is fine-tuned."""
    text_encoder.requires_grad = False
    text_encoder.eval()
    return text_encoder


def drop_conditioning(cond, null_cond, p_uncond, generator):
    keep = torch.rand(cond.shape[0], generator=generator) >= p_uncond
    return torch.where(keep[:, None], cond, null_cond.expand_as(cond))


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    text_encoder = freeze_conditioning(TinyTextEncoder(CFG["vocab"], CFG["text_dim"]))
    unet = CondUNet(channels=CFG["channels"], cond_dim=CFG["text_dim"])
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    params = [p for p in itertools.chain(unet.parameters(), text_encoder.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=CFG["lr"])
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=CFG["steps"])
    ema = EMAModel(unet.parameters(), decay=0.99)
    null_ids = torch.zeros(1, 4, dtype=torch.long)
    te0 = text_encoder.proj.weight.detach().clone()
    unet0 = unet.inp.weight.detach().clone()
    for step in range(CFG["steps"]):
        images = torch.randn(CFG["batch"], 1, 8, 8, generator=g)
        ids = torch.randint(1, CFG["vocab"], (CFG["batch"], 4), generator=g)
        cond = drop_conditioning(text_encoder(ids), text_encoder(null_ids), CFG["p_uncond"], g)
        noise = torch.randn(images.shape, generator=g)
        t = torch.randint(0, 1000, (CFG["batch"],), generator=g)
        noisy = noise_scheduler.add_noise(images, noise, t)
        loss = F.mse_loss(unet(noisy, t, cond), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        ema.step(unet.parameters())
    return {"unet": unet}, {
        "text_encoder_changed": not torch.equal(te0, text_encoder.proj.weight),
        "unet_changed": not torch.equal(unet0, unet.inp.weight),
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
