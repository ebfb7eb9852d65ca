import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config


class WeightStandardizedConv2d(nn.Conv2d):
    """Conv2d whose kernel is standardized per output channel (pairs well with GroupNorm)."""

    def forward(self, x):
        eps = 1e-5
        weight = self.weight.data
        mean = weight.mean(dim=(1, 2, 3), keepdim=True)
        var = weight.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
        weight = (weight - mean) / (var + eps).sqrt()
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Block(nn.Module):
    def __init__(self, cin, cout, groups=2):
        super().__init__()
        self.proj = WeightStandardizedConv2d(cin, cout, 3, padding=1)
        self.norm = nn.GroupNorm(groups, cout)

    def forward(self, x, scale_shift=None):
        h = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            h = h * (scale + 1) + shift
        return F.silu(h)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(temb_dim, 2 * cout))
        self.block1, self.block2 = Block(cin, cout), Block(cout, cout)
        self.res_conv = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        scale_shift = self.mlp(temb)[:, :, None, None].chunk(2, dim=1)
        return self.block2(self.block1(x, scale_shift)) + self.res_conv(x)


class TinyUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, channels=1, dim=8, temb_dim=8):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(1, temb_dim), nn.GELU(), nn.Linear(temb_dim, temb_dim))
        self.init_conv = nn.Conv2d(channels, dim, 3, padding=1)
        self.res1 = ResnetBlock(dim, dim, temb_dim)
        self.res2 = ResnetBlock(dim, dim, temb_dim)
        self.final = nn.Conv2d(dim, channels, 1)

    def forward(self, x, t):
        temb = self.time_mlp(t.float()[:, None] / 100)
        h = self.init_conv(x)
        return self.final(self.res2(self.res1(h, temb), temb))


def main():
    torch.manual_seed(0)
    images = torch.rand(8, 1, 8, 8) * 2 - 1
    model = TinyUNet()
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model.res1.block1.proj.weight.detach().clone()
    for _ in range(3):
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (8,))
        loss = F.mse_loss(model(scheduler.add_noise(images, noise, t), t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"ws_conv_changed": not torch.equal(before, model.res1.block1.proj.weight)}

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
