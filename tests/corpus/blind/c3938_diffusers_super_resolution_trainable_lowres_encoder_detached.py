import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class LowResEncoder(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, low_res):
        return self.net(F.interpolate(low_res, scale_factor=2, mode="nearest"))


class SRDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.in_conv = nn.Conv2d(1 + ch, ch, 3, padding=1)
        self.t_proj = nn.Linear(1, ch)
        self.out_conv = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, noisy, t, cond_features):
        h = self.in_conv(torch.cat([noisy, cond_features], 1)) + self.t_proj(t.float()[:, None] / 1000)[:, :, None, None]
        return self.out_conv(F.silu(h))


def training_step(unet, cond_encoder, scheduler, hr, optimizer):
    lr_img = F.avg_pool2d(hr, 2)
    cond = cond_encoder(lr_img).detach()
    noise = torch.randn_like(hr)
    t = torch.randint(0, 1000, (hr.shape[0],))
    loss = F.mse_loss(unet(scheduler.add_noise(hr, noise, t), t, cond), noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    unet, cond_encoder = SRDenoiser(), LowResEncoder()
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear")
    optimizer = torch.optim.AdamW(list(unet.parameters()) + list(cond_encoder.parameters()), lr=2e-3)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=1, num_training_steps=6)
    enc0 = cond_encoder.net[0].weight.detach().clone()
    unet0 = unet.in_conv.weight.detach().clone()
    for step in range(6):
        training_step(unet, cond_encoder, scheduler, torch.randn(4, 1, 8, 8), optimizer)
        lr_scheduler.step()
    return {"unet": unet, "cond_encoder": cond_encoder}, {
        "cond_encoder_changed": not torch.equal(enc0, cond_encoder.net[0].weight),
        "unet_changed": not torch.equal(unet0, unet.in_conv.weight),
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
