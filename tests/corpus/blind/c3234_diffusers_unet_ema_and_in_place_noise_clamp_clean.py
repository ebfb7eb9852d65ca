import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class SmallUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8, time_dim=8):
        super().__init__()
        self.time_proj = nn.Linear(1, time_dim)
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.time_to_ch = nn.Linear(time_dim, ch)
        self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, t):
        temb = F.silu(self.time_proj(t.float().unsqueeze(-1) / 100))
        h = F.silu(self.conv_in(x) + self.time_to_ch(temb)[:, :, None, None])
        return self.conv_out(h)


def train(unet, ema, loader, optimizer, lr_scheduler, noise_scheduler):
    for (images,) in loader:
        noise = torch.randn_like(images)
        noise.clamp_(-3.0, 3.0)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (images.size(0),))
        noisy = noise_scheduler.add_noise(images, noise, t)
        optimizer.zero_grad()
        loss = F.mse_loss(unet(noisy, t), noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        ema.step(unet.parameters())


def main():
    torch.manual_seed(0)
    unet = SmallUNet()
    w0 = unet.conv_in.weight.detach().clone()
    ema = EMAModel(unet.parameters(), decay=0.99)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(12, 3, 8, 8, generator=g)), batch_size=4, shuffle=True, generator=g)
    train(unet, ema, loader, optimizer, lr_scheduler, noise_scheduler)
    facts = {"ema_differs_from_online": not torch.equal(ema.shadow_params[2], unet.conv_in.weight),
             "unet_changed": not torch.equal(w0, unet.conv_in.weight)}
    return {"unet": unet}, facts

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
