import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset

ARGS = {"rank": 4, "lora_alpha": 4, "lr": 1e-3, "train_steps": 6, "warmup": 2, "target": ("to_q", "to_v")}


class TinyAttnUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=8, hidden=32, num_timesteps=1000):
        super().__init__()
        self.inp = nn.Linear(channels, hidden)
        self.time = nn.Embedding(num_timesteps, hidden)
        self.to_q, self.to_k, self.to_v = (nn.Linear(hidden, hidden) for _ in range(3))
        self.out = nn.Linear(hidden, channels)

    def forward(self, x, t):
        h = self.inp(x) + self.time(t)
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        attn = torch.softmax(q @ k.t() / q.size(-1) ** 0.5, -1)
        return self.out(h + attn @ v)


class LoRALinear(nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, rank, bias=False)
        self.up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.up.weight)
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.scale * self.up(self.down(x))


def inject_lora(unet, targets, rank, alpha):
    for name in targets:
        setattr(unet, name, LoRALinear(getattr(unet, name), rank, alpha))
    return unet


def main():
    torch.manual_seed(0)
    unet = TinyAttnUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    inject_lora(unet, ARGS["target"], ARGS["rank"], ARGS["lora_alpha"])
    unet.requires_grad_(False)
    lora_params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(lora_params, lr=ARGS["lr"])
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=ARGS["warmup"],
                                 num_training_steps=ARGS["train_steps"])
    loader = DataLoader(TensorDataset(torch.randn(48, 8)), batch_size=8, shuffle=True)
    for step, (latents,) in enumerate(loader):
        noise = torch.randn_like(latents)
        t = torch.randint(0, 1000, (latents.size(0),))
        pred = unet(noise_scheduler.add_noise(latents, noise, t), t)
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
    return {"unet": unet}, {"lora_up_changed": bool(unet.to_q.up.weight.abs().sum() > 0)}

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
