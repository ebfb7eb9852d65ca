import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet2D(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, sample_channels=3, base_channels=16, time_dim=16):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Linear(1, time_dim), nn.SiLU(), nn.Linear(time_dim, base_channels))
        self.down = nn.Conv2d(sample_channels, base_channels, 3, stride=2, padding=1)
        self.mid = nn.Sequential(nn.GroupNorm(4, base_channels), nn.SiLU(), nn.Conv2d(base_channels, base_channels, 3, padding=1))
        self.up = nn.ConvTranspose2d(base_channels, base_channels, 4, stride=2, padding=1)
        self.out = nn.Conv2d(base_channels + sample_channels, sample_channels, 3, padding=1)

    def forward(self, sample, timestep):
        emb = self.time_embed(timestep.float()[:, None] / 1000.0)[:, :, None, None]
        h = self.mid(self.down(sample) + emb)
        return self.out(torch.cat([self.up(h), sample], 1))


def clip_and_log(model, optimizer, max_norm, logs):
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    logs.append({"grad_norm": float(total_norm), "lr": optimizer.param_groups[0]["lr"]})
    optimizer.zero_grad(set_to_none=True)
    return total_norm


def butterflies(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    return DataLoader(TensorDataset(imgs), batch_size=4, shuffle=True, generator=g)


def train_loop(unet, ema, noise_scheduler, optimizer, lr_scheduler, loader, cfg):
    logs = []
    for _ in range(cfg["epochs"]):
        for (clean,) in loader:
            noise = torch.randn_like(clean)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (clean.size(0),))
            noisy = noise_scheduler.add_noise(clean, noise, t)
            loss = F.mse_loss(unet(noisy, t), noise)
            loss.backward()
            clip_and_log(unet, optimizer, cfg["max_grad_norm"], logs)
            optimizer.step()
            lr_scheduler.step()
            ema.step(unet.parameters())
    return logs


def main():
    torch.manual_seed(0)
    cfg = {"epochs": 2, "lr": 1e-3, "max_grad_norm": 1.0, "warmup": 2}
    unet = TinyUNet2D()
    ema = EMAModel(unet.parameters(), decay=0.9999)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg["lr"], weight_decay=1e-6)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=cfg["warmup"], num_training_steps=8)
    w0 = unet.down.weight.detach().clone()
    logs = train_loop(unet, ema, noise_scheduler, optimizer, lr_scheduler, butterflies(), cfg)
    return {"unet": unet}, {
        "unet_changed": not torch.equal(w0, unet.down.weight),
        "grad_norm_logged": all(rec["grad_norm"] > 0 for rec in logs),
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
