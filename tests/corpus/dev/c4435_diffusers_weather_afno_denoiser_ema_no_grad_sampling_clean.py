import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

CFG = {"vars": 3, "grid": (8, 16), "hidden": 16, "lr": 2e-3, "ema_decay": 0.99, "epochs": 2, "bs": 4}


class SpectralMixer(nn.Module):
    def __init__(self, ch, modes):
        super().__init__()
        self.modes = modes
        self.weight = nn.Parameter(0.05 * torch.randn(ch, ch, modes, modes, 2))

    def forward(self, x):
        H, W = x.shape[-2:]
        xf = torch.fft.rfft2(x, norm="ortho")
        out = torch.zeros_like(xf)
        w = torch.view_as_complex(self.weight)
        out[:, :, :self.modes, :self.modes] = torch.einsum("bihw,iohw->bohw", xf[:, :, :self.modes, :self.modes], w)
        return torch.fft.irfft2(out, s=(H, W), norm="ortho")


class WeatherDenoiser(ModelMixin):
    """Conditional denoiser: predicts the noise on the next state given the current state (AFNO-like mixing)."""

    @register_to_config
    def __init__(self, n_vars=3, hidden=16, modes=4):
        super().__init__()
        self.lift = nn.Conv2d(2 * n_vars, hidden, 1)
        self.t_embed = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.mixers = nn.ModuleList([SpectralMixer(hidden, modes) for _ in range(2)])
        self.pointwise = nn.ModuleList([nn.Conv2d(hidden, hidden, 1) for _ in range(2)])
        self.proj = nn.Conv2d(hidden, n_vars, 1)

    def forward(self, noisy_next, t, current):
        h = self.lift(torch.cat([noisy_next, current], 1)) + self.t_embed(t.float()[:, None] / 1000)[..., None, None]
        for mix, pw in zip(self.mixers, self.pointwise):
            h = h + F.gelu(mix(h) + pw(h))
        return self.proj(h)


@torch.no_grad()
def sample_forecast(model, sched, current, steps=5):
    x = torch.randn_like(current)
    for t in torch.linspace(sched.config.num_train_timesteps - 1, 0, steps).long():
        eps = model(x, t.repeat(x.shape[0]), current)
        a = sched.alphas_cumprod[t]
        x = (x - (1 - a).sqrt() * eps) / a.sqrt() * 0.5 + 0.5 * x
    return x


def era5_pairs(n=16, grid=(8, 16), v=3):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(n + 1, v, *grid, generator=g).cumsum(0) * 0.3
    return s[:-1], s[1:]


def train(model, ema, noise_sched, optimizer, lr_sched, data, cfg):
    cur_all, nxt_all = data
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(cur_all), cfg["bs"]):
            cur, nxt = cur_all[i:i + cfg["bs"]], nxt_all[i:i + cfg["bs"]]
            noise = torch.randn_like(nxt)
            t = torch.randint(0, noise_sched.config.num_train_timesteps, (cur.shape[0],))
            loss = F.mse_loss(model(noise_sched.add_noise(nxt, noise, t), t, cur), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()
            ema.step(model.parameters())


def main():
    torch.manual_seed(0)
    model = WeatherDenoiser(n_vars=CFG["vars"], hidden=CFG["hidden"])
    ema = EMAModel(model.parameters(), decay=CFG["ema_decay"])
    noise_sched = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    lr_sched = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=8)
    mix0 = model.mixers[0].weight.detach().clone()
    data = era5_pairs()
    train(model, ema, noise_sched, optimizer, lr_sched, data, CFG)
    eval_model = copy.deepcopy(model)
    ema.copy_to(eval_model.parameters())
    forecast = sample_forecast(eval_model, noise_sched, data[0][:2])
    return {"model": model}, {
        "spectral_weights_changed": not torch.equal(mix0, model.mixers[0].weight),
        "ema_differs_from_live": not torch.equal(ema.shadow_params[0], next(model.parameters()).detach()),
        "forecast_has_grad": forecast.requires_grad,
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
