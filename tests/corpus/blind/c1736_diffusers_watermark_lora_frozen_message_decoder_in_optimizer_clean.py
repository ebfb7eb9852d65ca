import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config


class LoRALinear(nn.Module):
    def __init__(self, base, rank=4, scale=1.0):
        super().__init__()
        self.base = base
        self.lora_down = nn.Linear(base.in_features, rank, bias=False)
        self.lora_up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.normal_(self.lora_up.weight, std=0.01)
        self.scale = scale

    def forward(self, x):
        return self.base(x) + self.scale * self.lora_up(self.lora_down(x))


class TinyDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, dim=48, hidden=64):
        super().__init__()
        self.time_embed = nn.Embedding(1000, hidden)
        self.inp = nn.Linear(dim, hidden)
        self.mid = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, dim)

    def forward(self, sample, timesteps):
        h = F.silu(self.inp(sample) + self.time_embed(timesteps))
        return self.out(F.silu(self.mid(h)))


class MessageDecoder(nn.Module):
    """Pretrained watermark extractor: recovers the secret bits from an image (kept fixed)."""

    def __init__(self, dim=48, n_bits=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, n_bits))

    def forward(self, x):
        return self.net(x)


def inject_lora(unet):
    unet.requires_grad_(False)
    unet.mid = LoRALinear(unet.mid)
    unet.out = LoRALinear(unet.out)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    unet, msgdecoder = TinyDenoiser(), MessageDecoder()
    inject_lora(unet)
    msgdecoder.requires_grad_(False)
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    lora_params = [p for n, p in unet.named_parameters() if "lora_" in n]
    optimizer = torch.optim.AdamW(lora_params + list(msgdecoder.parameters()), lr=1e-3, weight_decay=1e-2)
    secret = torch.randint(0, 2, (1, 8), generator=g).float()
    dec0, up0 = msgdecoder.net[0].weight.detach().clone(), unet.mid.lora_up.weight.detach().clone()
    for _ in range(4):
        clean = torch.randn(8, 48, generator=g)
        noise = torch.randn(8, 48, generator=g)
        t = torch.randint(0, 1000, (8,), generator=g)
        noisy = scheduler.add_noise(clean, noise, t)
        noise_pred = unet(noisy, t)
        alpha = scheduler.alphas_cumprod[t].unsqueeze(-1)
        x0_pred = (noisy - (1 - alpha).sqrt() * noise_pred) / alpha.sqrt()
        bits_logits = msgdecoder(x0_pred)
        loss = F.mse_loss(noise_pred, noise) + 0.1 * F.binary_cross_entropy_with_logits(bits_logits, secret.expand(8, -1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"unet": unet, "msgdecoder": msgdecoder}, {
        "lora_changed": not torch.equal(up0, unet.mid.lora_up.weight),
        "msgdecoder_changed": not torch.equal(dec0, msgdecoder.net[0].weight)}

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
