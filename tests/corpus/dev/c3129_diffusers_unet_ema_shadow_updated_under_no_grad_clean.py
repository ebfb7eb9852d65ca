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
    def __init__(self, in_channels=3, base=8):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(1, base), nn.SiLU())
        self.conv_in = nn.Conv2d(in_channels, base, 3, padding=1)
        self.down = nn.Conv2d(base, base, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(base, base, 4, stride=2, padding=1)
        self.conv_out = nn.Conv2d(2 * base, in_channels, 3, padding=1)

    def forward(self, sample, timesteps):
        t = self.time_mlp(timesteps.float()[:, None] / 1000.0)[:, :, None, None]
        h0 = F.silu(self.conv_in(sample)) + t
        h = self.up(F.silu(self.down(h0)))
        return self.conv_out(torch.cat([h, h0], 1))


def validate(unet, noise_scheduler, images):
    with torch.no_grad():
        t = torch.full((images.shape[0],), 50)
        noise = torch.randn_like(images)
        pred = unet(noise_scheduler.add_noise(images, noise, t), t)
        return F.mse_loss(pred, noise).item()


def main():
    torch.manual_seed(0)
    unet = SmallUNet()
    ema_unet = EMAModel(unet.parameters(), decay=0.99)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant", optimizer)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g)), batch_size=4, shuffle=True, generator=g)
    w0 = unet.conv_in.weight.detach().clone()
    for epoch in range(2):
        for (images,) in loader:
            noise = torch.randn_like(images)
            t = torch.randint(0, 1000, (images.shape[0],))
            loss = F.mse_loss(unet(noise_scheduler.add_noise(images, noise, t), t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            ema_unet.step(unet.parameters())
        validate(unet, noise_scheduler, images)
    idx = [n for n, _ in unet.named_parameters()].index("conv_in.weight")
    ema_w = ema_unet.shadow_params[idx]
    facts = {"unet_changed": not torch.equal(w0, unet.conv_in.weight),
             "ema_differs_from_unet": not torch.equal(ema_w, unet.conv_in.weight.detach()),
             "ema_changed": not torch.equal(ema_w, w0)}
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
