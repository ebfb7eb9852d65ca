import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class LoRAAdapter(nn.Module):
    def __init__(self, in_features, out_features, rank=4, alpha=4.0):
        super().__init__()
        self.lora_down = nn.Parameter(torch.randn(rank, in_features) / rank)
        self.lora_up = nn.Parameter(torch.zeros(out_features, rank), requires_grad=False)
        self.scale = alpha / rank

    def forward(self, x):
        return (x @ self.lora_down.t() @ self.lora_up.t()) * self.scale


class AttnBlock(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.norm = nn.GroupNorm(4, dim)
        self.to_q, self.to_k, self.to_v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.q_lora, self.v_lora = LoRAAdapter(dim, dim), LoRAAdapter(dim, dim)

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.norm(x).flatten(2).transpose(1, 2)
        q = self.to_q(t) + self.q_lora(t)
        k = self.to_k(t)
        v = self.to_v(t) + self.v_lora(t)
        attn = (q @ k.transpose(1, 2) / c ** 0.5).softmax(dim=-1)
        return x + (attn @ v).transpose(1, 2).reshape(b, c, h, w)


class StyleDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, dim, 3, padding=1)
        self.attn = AttnBlock(dim)
        self.conv_out = nn.Conv2d(dim, channels, 3, padding=1)

    def forward(self, x, t):
        return self.conv_out(self.attn(self.conv_in(x) + t.float()[:, None, None, None] / 1000))


def freeze_base(model):
    """Freeze every pretrained weight; adapter parameters keep their own flags."""
    for module in model.modules():
        if not isinstance(module, LoRAAdapter):
            for p in module.parameters(recurse=False):
                p.requires_grad_(False)
    return [p for p in model.parameters() if p.requires_grad]


def main():
    torch.manual_seed(0)
    unet = StyleDenoiser()
    trainable = freeze_base(unet)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    latents = torch.randn(12, 4, 6, 6)
    loader = DataLoader(TensorDataset(latents), batch_size=4, shuffle=True)
    optimizer = torch.optim.AdamW(trainable, lr=1e-3)
    lr_sched = get_scheduler("constant", optimizer)
    up0 = unet.attn.q_lora.lora_up.detach().clone()
    for epoch in range(2):
        for (x0,) in loader:
            noise = torch.randn_like(x0)
            t = torch.randint(0, 100, (x0.size(0),))
            loss = F.mse_loss(unet(scheduler.add_noise(x0, noise, t), t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()
    return {"unet": unet}, {"lora_up_changed": not torch.equal(up0, unet.attn.q_lora.lora_up)}

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
