import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=8):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels, 3, padding=1)
        self.time_proj = nn.Linear(1, channels)
        self.mid = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_out = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, sample, timesteps, control_residual=None):
        h = F.silu(self.conv_in(sample)) + self.time_proj(timesteps.float()[:, None] / 1000)[:, :, None, None]
        if control_residual is not None:
            h = h + control_residual
        return self.conv_out(F.silu(self.mid(h)))


class ConditionEncoder(nn.Module):
    def __init__(self, cond_channels=1, channels=8):
        super().__init__()
        self.proj = nn.Conv2d(cond_channels, channels, 3, padding=1)
        self.zero_conv = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.zero_conv.weight)
        nn.init.zeros_(self.zero_conv.bias)

    def forward(self, cond):
        return self.zero_conv(F.silu(self.proj(cond)))


def count_trainable(*modules):
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def main():
    torch.manual_seed(0)
    unet = CondUNet()
    unet.requires_grad_(False)
    cond_encoder = ConditionEncoder()
    optimizer = torch.optim.AdamW(cond_encoder.parameters(), lr=1e-3)
    noise_scheduler = DDPMScheduler(num_train_timesteps=200)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.rand(16, 1, 8, 8, generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    u0, c0 = unet.conv_in.weight.detach().clone(), cond_encoder.proj.weight.detach().clone()
    for epoch in range(2):
        for images, cond in loader:
            noise = torch.randn_like(images)
            t = torch.randint(0, 200, (images.shape[0],))
            pred = unet(noise_scheduler.add_noise(images, noise, t), t, control_residual=cond_encoder(cond))
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    facts = {"unet_changed": not torch.equal(u0, unet.conv_in.weight),
             "cond_encoder_changed": not torch.equal(c0, cond_encoder.proj.weight)}
    return {"unet": unet, "cond_encoder": cond_encoder}, facts

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
