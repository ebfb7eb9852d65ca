import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class LoRAConv(nn.Module):
    def __init__(self, base: nn.Conv2d, rank=4, alpha=4.0):
        super().__init__()
        self.base = base
        self.lora_down = nn.Conv2d(base.in_channels, rank, 1, bias=False)
        self.lora_up = nn.Conv2d(rank, base.out_channels, 1, bias=False)
        nn.init.zeros_(self.lora_up.weight)
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.scale * self.lora_up(self.lora_down(x))


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16, n_steps=50):
        super().__init__()
        self.t_embed = nn.Embedding(n_steps, width)
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, t):
        h = F.silu(self.conv_in(sample) + self.t_embed(t)[:, :, None, None])
        return self.conv_out(F.silu(self.mid(h)))


def add_lora_layers(unet, targets=("mid", "conv_out"), rank=4):
    for name in targets:
        setattr(unet, name, LoRAConv(getattr(unet, name), rank=rank))


def lora_parameters(unet):
    return [p for n, p in unet.named_parameters() if "lora_" in n]


def make_loader(n=24, bs=6):
    g = torch.Generator().manual_seed(27)
    return DataLoader(TensorDataset(torch.rand(n, 3, 8, 8, generator=g) * 2 - 1), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    unet = TinyUNet()
    add_lora_layers(unet, rank=4)
    unet.requires_grad_(False)
    params = lora_parameters(unet)
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    lr_scheduler = get_scheduler("constant", optimizer)
    noise_scheduler = DDPMScheduler(num_train_timesteps=50)
    unet.train()
    for (imgs,) in make_loader():
        noise = torch.randn_like(imgs)
        t = torch.randint(0, 50, (imgs.shape[0],))
        pred = unet(noise_scheduler.add_noise(imgs, noise, t), t)
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
    return {"unet": unet}, {"n_lora_params": len(params)}

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
