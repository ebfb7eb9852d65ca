import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class TimestepEmbedding(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-torch.arange(half, dtype=torch.float32) * (4.0 / half))
        ang = t.float()[:, None] * freqs[None]
        return self.mlp(torch.cat([ang.sin(), ang.cos()], dim=-1))


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=32):
        super().__init__()
        self.t_embed = TimestepEmbedding(width)
        self.down = nn.Conv2d(channels, width, 3, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.up = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, t):
        h = F.silu(self.down(x)) + self.t_embed(t)[:, :, None, None]
        h = F.silu(self.mid(h))
        return self.up(h)


@torch.no_grad()
def denoising_loss(unet, scheduler, clean, snr_gamma=None):
    noise = torch.randn_like(clean)
    t = torch.randint(0, scheduler.config.num_train_timesteps, (clean.size(0),))
    noisy = scheduler.add_noise(clean, noise, t)
    pred = unet(noisy, t)
    loss = F.mse_loss(pred, noise, reduction="none").mean(dim=(1, 2, 3))
    if snr_gamma is not None:
        alpha = scheduler.alphas_cumprod[t]
        snr = alpha / (1 - alpha)
        loss = loss * torch.clamp(snr, max=snr_gamma) / snr
    return loss.mean()


def train_loop(unet, scheduler, loader, optimizer, lr_scheduler, epochs=1):
    unet.train()
    for _ in range(epochs):
        for (images,) in loader:
            loss = denoising_loss(unet, scheduler, images, snr_gamma=5.0)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    unet = TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer, num_warmup_steps=0, num_training_steps=4)
    data = TensorDataset(torch.rand(16, 3, 8, 8) * 2 - 1)
    train_loop(unet, noise_scheduler, DataLoader(data, batch_size=4, shuffle=True), optimizer, lr_scheduler)
    return {"unet": unet}

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
