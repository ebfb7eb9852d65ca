import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class RRDBEncoder(nn.Module):
    """Pretrained low-resolution feature extractor (kept frozen, as in SRDiff)."""

    def __init__(self, c=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c, c, 3, padding=1))

    def forward(self, lr):
        return self.body(lr)


class ResidualDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, cond_channels=8, width=16):
        super().__init__()
        self.cond_up = nn.ConvTranspose2d(cond_channels, width, 4, 2, 1)
        self.inp = nn.Conv2d(3, width, 3, padding=1)
        self.t_embed = nn.Embedding(100, width)
        self.mid = nn.Sequential(nn.SiLU(), nn.Conv2d(width, width, 3, padding=1), nn.SiLU())
        self.out = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, x_t, t, cond):
        h = self.inp(x_t) + self.cond_up(cond) + self.t_embed(t)[:, :, None, None]
        return self.out(self.mid(h))


def train(accelerator, encoder, denoiser, scheduler, optimizer, loader):
    denoiser.train()
    for lr_img, hr_img in loader:
        with torch.no_grad():
            cond = encoder(lr_img)
        residual = hr_img - F.interpolate(lr_img, scale_factor=2.0, mode="bilinear")
        noise = torch.randn_like(residual)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (residual.shape[0],))
        pred = denoiser(scheduler.add_noise(residual, noise, t), t, cond)
        loss = F.l1_loss(pred, noise)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    encoder = RRDBEncoder().eval()
    encoder.requires_grad_(False)
    denoiser = ResidualDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.Adam(denoiser.parameters(), lr=2e-4)
    hr = torch.rand(8, 3, 8, 8) * 2 - 1
    loader = DataLoader(TensorDataset(F.avg_pool2d(hr, 2), hr), batch_size=4)
    denoiser, optimizer, loader = accelerator.prepare(denoiser, optimizer, loader)
    train(accelerator, encoder, denoiser, scheduler, optimizer, loader)
    return {"denoiser": denoiser, "encoder": encoder}

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
