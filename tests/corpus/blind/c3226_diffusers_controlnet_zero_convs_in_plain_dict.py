import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


def zero_module(m):
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.down0 = nn.Conv2d(3, ch, 3, padding=1)
        self.down1 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(ch, ch, 2, stride=2)
        self.out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, t, control=None):
        h0 = F.silu(self.down0(x)) + (control["down0"] if control else 0)
        h1 = F.silu(self.down1(h0)) + (control["down1"] if control else 0)
        return self.out(F.silu(self.up(h1)) + h0)


class ControlNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.hint_embed = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.SiLU())
        self.down1 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.zero_convs = {"down0": zero_module(nn.Conv2d(ch, ch, 1)), "down1": zero_module(nn.Conv2d(ch, ch, 1))}

    def forward(self, hint):
        h0 = self.hint_embed(hint)
        h1 = F.silu(self.down1(h0))
        return {"down0": self.zero_convs["down0"](h0), "down1": self.zero_convs["down1"](h1)}


def main():
    torch.manual_seed(0)
    unet, controlnet = TinyUNet(), ControlNet()
    unet.requires_grad_(False)
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=1e-3)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    g = torch.Generator().manual_seed(0)
    images, hints = torch.randn(4, 3, 8, 8, generator=g), torch.rand(4, 1, 8, 8, generator=g)
    zc = controlnet.zero_convs["down0"].weight
    z0 = zc.detach().clone()
    for step in range(3):
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (4,))
        pred = unet(noise_scheduler.add_noise(images, noise, t), t, control=controlnet(hints))
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    facts = {"zero_convs_in_parameters": any(p is zc for p in controlnet.parameters()),
             "zero_conv_changed": not torch.equal(z0, zc)}
    return {"controlnet": controlnet, "zero_conv_down0": zc}, facts

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
