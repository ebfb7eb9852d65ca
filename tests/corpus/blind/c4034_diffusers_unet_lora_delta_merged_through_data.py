import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class LoRAConv(nn.Module):
    def __init__(self, base, rank=2, alpha=2.0):
        super().__init__()
        self.base = base
        out_ch, in_ch, kh, kw = base.weight.shape
        self.lora_down = nn.Parameter(torch.randn(rank, in_ch * kh * kw) * 0.1)
        self.lora_up = nn.Parameter(torch.zeros(out_ch, rank))
        self.scale = alpha / rank

    def merged_weight(self):
        delta = (self.lora_up.data @ self.lora_down).view_as(self.base.weight)
        return self.base.weight + self.scale * delta

    def forward(self, x):
        return F.conv2d(x, self.merged_weight(), self.base.bias, padding=self.base.padding)


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.conv_in = nn.Conv2d(1, ch, 3, padding=1)
        self.time_proj = nn.Linear(1, ch)
        self.mid = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv_out = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x, t):
        h = self.conv_in(x) + self.time_proj(t.float()[:, None] / 1000.0)[:, :, None, None]
        return self.conv_out(F.silu(self.mid(h)) + h)


def inject_lora(unet, rank=2):
    unet.requires_grad_(False)
    unet.mid = LoRAConv(unet.mid, rank)
    return [p for n, p in unet.named_parameters() if "lora_" in n]


def main():
    torch.manual_seed(0)
    unet = TinyUNet()
    lora_params = inject_lora(unet)
    optimizer = torch.optim.AdamW(lora_params, lr=5e-3, weight_decay=0.0)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    up0 = unet.mid.lora_up.detach().clone()
    down0 = unet.mid.lora_down.detach().clone()
    for _ in range(8):
        images = torch.randn(4, 1, 8, 8)
        noise = torch.randn_like(images)
        t = torch.randint(0, 1000, (4,))
        loss = F.mse_loss(unet(scheduler.add_noise(images, noise, t), t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"lora_up": unet.mid.lora_up, "lora_down": unet.mid.lora_down}, {
        "lora_up_changed": not torch.equal(up0, unet.mid.lora_up),
        "lora_down_changed": not torch.equal(down0, unet.mid.lora_down),
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
