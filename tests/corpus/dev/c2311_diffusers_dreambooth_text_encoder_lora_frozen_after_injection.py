import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank=4):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, rank, bias=False)
        self.up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.up.weight)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)

    def forward(self, ids):
        h = self.tok(ids)
        attn = torch.softmax(self.q_proj(h) @ h.transpose(1, 2) / 4.0, dim=-1)
        return attn @ self.v_proj(h)


class TinyUNet(ModelMixin):
    def __init__(self, ch=4, dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(ch, dim, 3, padding=1)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.conv_out = nn.Conv2d(dim, ch, 3, padding=1)

    def forward(self, x, t, context):
        h = self.conv_in(x) + t.float().view(-1, 1, 1, 1) / 1000
        b, c, hh, ww = h.shape
        q = h.flatten(2).transpose(1, 2)
        attn = torch.softmax(q @ self.to_k(context).transpose(1, 2) / 4.0, dim=-1)
        h = h + (attn @ self.to_v(context)).transpose(1, 2).reshape(b, c, hh, ww)
        return self.conv_out(h)


def inject_lora(module, names):
    for name in names:
        setattr(module, name, LoRALinear(getattr(module, name)))
    return [p for n, p in module.named_parameters() if ".down." in n or ".up." in n]


def main():
    torch.manual_seed(0)
    unet, text_encoder = TinyUNet(), TextEncoder()
    scheduler = DDPMScheduler(num_train_timesteps=100)
    unet.requires_grad_(False)
    unet_lora = inject_lora(unet, ["to_k", "to_v"])
    text_lora = inject_lora(text_encoder, ["q_proj", "v_proj"])
    text_encoder.requires_grad_(False)
    params_to_optimize = itertools.chain(unet_lora, text_lora)
    optimizer = torch.optim.AdamW(params_to_optimize, lr=1e-3)
    latents, ids = torch.randn(4, 4, 8, 8), torch.randint(0, 30, (4, 6))
    for _ in range(2):
        noise = torch.randn_like(latents)
        t = torch.randint(0, 100, (4,))
        noisy = scheduler.add_noise(latents, noise, t)
        pred = unet(noisy, t, text_encoder(ids))
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"unet": unet, "text_encoder": text_encoder}

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
