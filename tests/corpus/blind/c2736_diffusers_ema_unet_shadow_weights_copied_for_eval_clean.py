import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.training_utils import EMAModel


class SmallUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, channels=1, width=8):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.time_proj = nn.Linear(1, width)
        self.mid = nn.Sequential(nn.GroupNorm(2, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, t):
        h = self.conv_in(x) + self.time_proj(t.float()[:, None] / 100)[:, :, None, None]
        return self.conv_out(h + self.mid(h))


@torch.no_grad()
def evaluate_with_ema(unet, ema, images, scheduler):
    eval_unet = copy.deepcopy(unet)
    ema.copy_to(eval_unet.parameters())
    eval_unet.eval()
    noise = torch.randn_like(images)
    t = torch.full((len(images),), 50)
    return F.mse_loss(eval_unet(scheduler.add_noise(images, noise, t), t), noise).item()


def main():
    torch.manual_seed(0)
    images = torch.rand(8, 1, 8, 8) * 2 - 1
    unet = SmallUNet()
    ema = EMAModel(unet.parameters(), decay=0.99)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    before = unet.mid[2].weight.detach().clone()
    shadow_before = ema.shadow_params[0].clone()
    for step in range(4):
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (8,))
        loss = F.mse_loss(unet(scheduler.add_noise(images, noise, t), t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.step(unet.parameters())
    evaluate_with_ema(unet, ema, images, scheduler)
    facts = {"unet_changed": not torch.equal(before, unet.mid[2].weight),
             "ema_changed": not torch.equal(shadow_before, ema.shadow_params[0])}
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
