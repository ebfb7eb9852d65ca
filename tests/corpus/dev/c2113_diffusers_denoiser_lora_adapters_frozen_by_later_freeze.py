import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class LoRALinear(nn.Module):
    def __init__(self, base, rank=4, alpha=4.0):
        super().__init__()
        self.base = base
        self.lora_down = nn.Linear(base.in_features, rank, bias=False)
        self.lora_up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_up.weight)
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.scale * self.lora_up(self.lora_down(x))


class TinyDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, hidden=32, cond_dim=8):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Linear(1, hidden), nn.SiLU())
        self.cond_proj = nn.Linear(cond_dim, hidden)
        self.inp = nn.Linear(channels, hidden)
        self.mid = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, channels)

    def forward(self, x, t, cond):
        h = self.inp(x) + self.time_embed(t.float().unsqueeze(-1) / 1000) + self.cond_proj(cond)
        return self.out(F.silu(self.mid(F.silu(h))))


def inject_lora(model, names=("mid", "out"), rank=4):
    for name in names:
        setattr(model, name, LoRALinear(getattr(model, name), rank=rank))
    return model


def freeze_base(model):
    model.requires_grad_(False)
    for p in model.cond_proj.parameters():
        p.requires_grad_(True)


def trainable(model):
    return [p for p in model.parameters() if p.requires_grad]


def main():
    torch.manual_seed(0)
    unet = TinyDenoiser()
    unet = inject_lora(unet)
    freeze_base(unet)
    optimizer = torch.optim.AdamW(trainable(unet), lr=1e-3)
    lr_sched = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    noise_sched = DDPMScheduler(num_train_timesteps=100)
    latents, cond = torch.randn(32, 4), torch.randn(32, 8)
    for step in range(4):
        x0, c = latents[step * 8:(step + 1) * 8], cond[step * 8:(step + 1) * 8]
        noise = torch.randn_like(x0)
        t = torch.randint(0, 100, (x0.shape[0],))
        pred = unet(noise_sched.add_noise(x0, noise, t), t, c)
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
    return ({"unet": unet},
            {"lora_up_changed": bool(unet.mid.lora_up.weight.abs().sum() > 0),
             "n_trainable_tensors": len(trainable(unet))})

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
