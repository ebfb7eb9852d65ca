import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class LoRALinearLayer(nn.Module):
    def __init__(self, base: nn.Linear, rank=4, alpha=4.0):
        super().__init__()
        self.base = base
        self.lora_down = nn.Linear(base.in_features, rank, bias=False)
        self.lora_up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.normal_(self.lora_down.weight, std=1.0 / rank)
        nn.init.zeros_(self.lora_up.weight)
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.scale * self.lora_up(self.lora_down(x))


class TinyAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.to_q, self.to_k, self.to_v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
        w = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
        return self.to_out(w @ v)


class TinyDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, dim=16, num_train_timesteps=100):
        super().__init__()
        self.proj_in = nn.Linear(channels, dim)
        self.time_embed = nn.Embedding(num_train_timesteps, dim)
        self.attn = TinyAttention(dim)
        self.proj_out = nn.Linear(dim, channels)

    def forward(self, sample, timesteps):
        b, c, h, w = sample.shape
        x = self.proj_in(sample.flatten(2).transpose(1, 2)) + self.time_embed(timesteps)[:, None, :]
        x = x + self.attn(x)
        return self.proj_out(x).transpose(1, 2).reshape(b, c, h, w)


def inject_lora(model, target_names=("to_q", "to_k", "to_v", "to_out"), rank=4):
    for module in list(model.modules()):
        for name in target_names:
            child = getattr(module, name, None)
            if isinstance(child, nn.Linear):
                setattr(module, name, LoRALinearLayer(child, rank=rank))
    return [p for n, p in model.named_parameters() if "lora_" in n]


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1, mixed_precision="no")
    unet = TinyDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    lora_params = inject_lora(unet, rank=4)
    unet.requires_grad_(False)
    optimizer = torch.optim.AdamW(lora_params, lr=1e-3, weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    latents_all = torch.randn(16, 4, 4, 4)
    loader = torch.utils.data.DataLoader(latents_all, batch_size=4, shuffle=True)
    unet, optimizer, loader, lr_scheduler = accelerator.prepare(unet, optimizer, loader, lr_scheduler)
    lora_before = [p.detach().clone() for p in lora_params]
    unet.train()
    for step, latents in enumerate(loader):
        noise = torch.randn_like(latents)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        with accelerator.accumulate(unet):
            pred = unet(noisy, timesteps)
            loss = F.mse_loss(pred.float(), noise.float(), reduction="mean")
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
    changed = [not torch.equal(a, p) for a, p in zip(lora_before, lora_params)]
    return {"unet": unet}, {"lora_changed": all(changed)}

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
