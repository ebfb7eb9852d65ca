import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=16):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.mid = nn.Sequential(nn.GroupNorm(4, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timesteps, residual=None):
        h = self.conv_in(sample) + self.time_mlp(timesteps.float()[:, None] / 100)[:, :, None, None]
        if residual is not None:
            h = h + residual
        return self.conv_out(self.mid(h))


class ControlBranch(ModelMixin):
    """Encodes the conditioning image (edges / pose) into a residual for the frozen UNet; zero-initialized output."""

    @register_to_config
    def __init__(self, cond_channels=1, width=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(cond_channels, width, 3, padding=1), nn.SiLU(),
                                     nn.Conv2d(width, width, 3, padding=1))
        self.zero_conv = nn.Conv2d(width, width, 1)
        nn.init.zeros_(self.zero_conv.weight)
        nn.init.zeros_(self.zero_conv.bias)

    def forward(self, cond):
        return self.zero_conv(self.encoder(cond))


def freeze_base_model(unet):
    unet.requires_grad = False
    unet.eval()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    unet, controlnet = TinyUNet(), ControlBranch()
    freeze_base_model(unet)
    params = [p for p in itertools.chain(unet.parameters(), controlnet.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    latents, edges = torch.randn(16, 4, 8, 8), torch.rand(16, 1, 8, 8)
    loader = DataLoader(TensorDataset(latents, edges), batch_size=4, shuffle=True)
    controlnet, optimizer, loader = accelerator.prepare(controlnet, optimizer, loader)
    base0 = unet.conv_out.weight.detach().clone()
    for x0, cond in loader:
        noise = torch.randn_like(x0)
        t = torch.randint(0, 100, (x0.size(0),))
        pred = unet(scheduler.add_noise(x0, noise, t), t, residual=controlnet(cond))
        loss = F.mse_loss(pred, noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    accelerator.backward(F.mse_loss(unet(scheduler.add_noise(x0, noise, t), t, residual=controlnet(cond)), noise))
    return ({"unet": unet, "controlnet": controlnet},
            {"base_unet_unchanged": torch.equal(base0, unet.conv_out.weight)})

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
