import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

VARIABLES = ("t850", "z500", "u10", "v10")
CLIMATOLOGY_STD = (4.1, 320.0, 5.3, 4.8)
CFG = {"hidden": 16, "grid": (8, 16), "lr": 1e-3, "epochs": 2, "bs": 4}


class PatchMixer(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.dw = nn.Conv2d(ch, ch, 5, padding=2, groups=ch, padding_mode="circular")
        self.pw = nn.Sequential(nn.Conv2d(ch, 2 * ch, 1), nn.GELU(), nn.Conv2d(2 * ch, ch, 1))

    def forward(self, x):
        return x + self.pw(self.dw(x))


class GlobalWeatherDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, variables=VARIABLES, climatology_std=CLIMATOLOGY_STD, hidden=16):
        super().__init__()
        n = len(variables)
        # learned per-variable output scale, initialised from the climatological standard deviations
        self.channel_scale = nn.Parameter(torch.ones(n))
        self.channel_scale = self.channel_scale * torch.tensor(climatology_std).log1p()
        self.inp = nn.Conv2d(2 * n + 1, hidden, 3, padding=1, padding_mode="circular")
        self.mixers = nn.Sequential(PatchMixer(hidden), PatchMixer(hidden))
        self.out = nn.Conv2d(hidden, n, 1)

    def forward(self, noisy, timesteps, condition):
        t_map = (timesteps.float() / 1000)[:, None, None, None].expand(-1, 1, *noisy.shape[-2:])
        h = self.mixers(self.inp(torch.cat([noisy, condition, t_map], 1)))
        return self.out(h) * self.channel_scale[None, :, None, None]


def reanalysis_pairs(n=16, grid=(8, 16)):
    g = torch.Generator().manual_seed(0)
    states = torch.randn(n + 1, len(VARIABLES), *grid, generator=g).cumsum(0) * 0.2
    return states[:-1], states[1:]


def train(model, noise_sched, optimizer, lr_sched, data, cfg):
    cur, nxt = data
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(cur), cfg["bs"]):
            c, x0 = cur[i:i + cfg["bs"]], nxt[i:i + cfg["bs"]]
            noise = torch.randn_like(x0)
            t = torch.randint(0, noise_sched.config.num_train_timesteps, (x0.shape[0],))
            loss = F.mse_loss(model(noise_sched.add_noise(x0, noise, t), t, c), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()


def main():
    torch.manual_seed(0)
    model = GlobalWeatherDenoiser(hidden=CFG["hidden"])
    noise_sched = DDPMScheduler(num_train_timesteps=200, beta_schedule="scaled_linear")
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    lr_sched = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    scale0 = model.channel_scale.detach().clone()
    train(model, noise_sched, optimizer, lr_sched, reanalysis_pairs(), CFG)
    return {"model": model}, {"channel_scale_changed": not torch.equal(scale0, model.channel_scale.detach())}

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
