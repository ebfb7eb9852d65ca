import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler
from torch.utils.data import DataLoader, TensorDataset


class LoRAInjectedLinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_down = nn.Linear(base.in_features, rank, bias=False)
        self.lora_up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_up.weight)

    def forward(self, x):
        return self.base(x) + self.lora_up(self.lora_down(x))


def inject_lora(module, target="proj"):
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Linear) and target in name:
            setattr(module, name, LoRAInjectedLinear(child))
        else:
            inject_lora(child, target)
    return [p for n, p in module.named_parameters() if "lora_" in n]


class TextEncoder(nn.Module):
    def __init__(self, vocab=30, d=8):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.q_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, ids):
        h = self.token_embedding(ids)
        return self.out_proj(torch.tanh(self.q_proj(h))).mean(1)


class DenoiserUNet(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.conv_in = nn.Conv2d(3, d, 3, 1, 1)
        self.attn_proj = nn.Linear(d, d)
        self.conv_out = nn.Conv2d(d, 3, 3, 1, 1)

    def forward(self, x, text_emb):
        h = F.silu(self.conv_in(x) + self.attn_proj(text_emb)[:, :, None, None])
        return self.conv_out(h)


def main():
    set_seed(0)
    accelerator = Accelerator()
    text_encoder, unet = TextEncoder(), DenoiserUNet()
    unet.requires_grad_(False)
    unet_lora_params = inject_lora(unet)
    text_lora_params = inject_lora(text_encoder)
    text_encoder.requires_grad_(False)
    params_to_optimize = unet_lora_params + [p for p in text_lora_params if p.requires_grad]
    optimizer = torch.optim.AdamW(params_to_optimize, lr=1e-3)
    scheduler = DDPMScheduler(num_train_timesteps=50)
    images = torch.tanh(torch.randn(8, 3, 8, 8))
    loader = DataLoader(TensorDataset(images, torch.randint(0, 30, (8, 5))), batch_size=4)
    text_encoder, unet, optimizer, loader = accelerator.prepare(text_encoder, unet, optimizer, loader)
    te0 = text_encoder.q_proj.lora_down.weight.detach().clone()
    un0 = unet.attn_proj.lora_up.weight.detach().clone()
    for pixel_values, input_ids in loader:
        noise = torch.randn_like(pixel_values)
        t = torch.randint(0, 50, (pixel_values.shape[0],))
        noisy = scheduler.add_noise(pixel_values, noise, t)
        loss = F.mse_loss(unet(noisy, text_encoder(input_ids)), noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    return {"unet": unet}, {
        "text_lora_changed": not torch.equal(te0, text_encoder.q_proj.lora_down.weight),
        "unet_lora_changed": not torch.equal(un0, unet.attn_proj.lora_up.weight),
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
