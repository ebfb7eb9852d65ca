import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config


class ResBlock(nn.Module):
    def __init__(self, ch, temb_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.temb = nn.Linear(temb_dim, ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, temb):
        h = F.silu(self.conv1(x)) + self.temb(temb)[:, :, None, None]
        return x + self.conv2(F.silu(h))


class TinyDenoiser(ModelMixin, ConfigMixin):
    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(self, in_channels=1, ch=8, temb_dim=8):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(1, temb_dim), nn.SiLU())
        self.blocks = nn.ModuleList([ResBlock(ch, temb_dim), ResBlock(ch, temb_dim)])
        self.conv_out = nn.Conv2d(ch, in_channels, 3, padding=1)
        self.gradient_checkpointing = False

    def enable_gradient_checkpointing(self):
        self.gradient_checkpointing = True

    def _run(self, module, *args):
        if self.gradient_checkpointing and self.training:
            return checkpoint(module, *args, use_reentrant=True)
        return module(*args)

    def forward(self, sample, timesteps):
        temb = self.time_mlp(timesteps.float().unsqueeze(-1) / 1000)
        h = self._run(self.conv_in, sample)
        for block in self.blocks:
            h = self._run(block, h, temb)
        return self.conv_out(F.silu(h))


def main():
    torch.manual_seed(0)
    images = torch.rand(8, 1, 8, 8) * 2 - 1
    model = TinyDenoiser()
    model.enable_gradient_checkpointing()
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    before = model.conv_in.weight.detach().clone()
    for step in range(3):
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (images.size(0),))
        noisy = scheduler.add_noise(images, noise, t)
        loss = F.mse_loss(model(noisy, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"conv_in_changed": not torch.equal(before, model.conv_in.weight)}

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
