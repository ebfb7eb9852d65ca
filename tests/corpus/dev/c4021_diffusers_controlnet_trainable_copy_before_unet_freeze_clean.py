import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.conv_in = nn.Conv2d(1, ch, 3, padding=1)
        self.time_proj = nn.Linear(1, ch)
        self.down = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.mid = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.conv_out = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x, t, down_residual=None, mid_residual=None):
        h = self.conv_in(x) + self.time_proj(t.float()[:, None] / 1000.0)[:, :, None, None]
        d = self.down(h)
        if down_residual is not None:
            d = d + down_residual
        m = self.mid(d)
        if mid_residual is not None:
            m = m + mid_residual
        return self.conv_out(m + d)


def zero_conv(ch):
    conv = nn.Conv2d(ch, ch, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class TinyControlNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.cond_embed = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.SiLU(), zero_conv(ch))
        self.conv_in = nn.Conv2d(1, ch, 3, padding=1)
        self.time_proj = nn.Linear(1, ch)
        self.down = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.mid = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.zero_down = zero_conv(ch)
        self.zero_mid = zero_conv(ch)

    @classmethod
    def from_unet(cls, unet):
        controlnet = cls(ch=unet.config.ch)
        controlnet.conv_in = copy.deepcopy(unet.conv_in)
        controlnet.time_proj = copy.deepcopy(unet.time_proj)
        controlnet.down = copy.deepcopy(unet.down)
        controlnet.mid = copy.deepcopy(unet.mid)
        return controlnet

    def forward(self, x, t, cond):
        h = self.conv_in(x) + self.time_proj(t.float()[:, None] / 1000.0)[:, :, None, None]
        h = h + self.cond_embed(cond)
        d = self.down(h)
        m = self.mid(d)
        return self.zero_down(d), self.zero_mid(m)


def setup_models(lr=2e-3):
    unet = TinyUNet()
    controlnet = TinyControlNet.from_unet(unet)
    unet.requires_grad_(False)
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=lr)
    return unet, controlnet, optimizer, get_scheduler("constant", optimizer=optimizer)


def train_step(unet, controlnet, scheduler, optimizer, lr_scheduler, images):
    edges = F.pad((images[:, :, :, 1:] - images[:, :, :, :-1]).abs(), (0, 1))
    noise = torch.randn_like(images)
    t = torch.randint(0, 1000, (images.size(0),))
    noisy = scheduler.add_noise(images, noise, t)
    down_res, mid_res = controlnet(noisy, t, edges)
    pred = unet(noisy, t, down_residual=down_res, mid_residual=mid_res)
    loss = F.mse_loss(pred, noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    lr_scheduler.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    unet, controlnet, optimizer, lr_scheduler = setup_models()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    down0 = controlnet.down[0].weight.detach().clone()
    zero0 = controlnet.zero_down.weight.detach().clone()
    unet0 = unet.mid[0].weight.detach().clone()
    for _ in range(6):
        train_step(unet, controlnet, scheduler, optimizer, lr_scheduler, torch.randn(4, 1, 8, 8))
    return {"controlnet": controlnet}, {
        "controlnet_down_changed": not torch.equal(down0, controlnet.down[0].weight),
        "zero_conv_changed": not torch.equal(zero0, controlnet.zero_down.weight),
        "unet_frozen": torch.equal(unet0, unet.mid[0].weight),
        "unet_has_no_grad": all(p.grad is None for p in unet.parameters()),
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
