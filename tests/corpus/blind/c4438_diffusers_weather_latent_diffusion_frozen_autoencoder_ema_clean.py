import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

CFG = {"vars": 4, "latent": 4, "hidden": 16, "lr": 1e-3, "epochs": 2, "bs": 4}


class FieldAutoencoder(ModelMixin):
    """Pretrained encoder / decoder between 4-variable global fields and a 2x downsampled latent grid."""

    @register_to_config
    def __init__(self, n_vars=4, latent=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(n_vars, 16, 3, padding=1), nn.SiLU(), nn.Conv2d(16, latent, 4, 2, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(latent, 16, 4, 2, 1), nn.SiLU(), nn.Conv2d(16, n_vars, 3, padding=1))

    def encode(self, x):
        return self.encoder(x)


class LatentForecaster(ModelMixin):
    @register_to_config
    def __init__(self, latent=4, hidden=16):
        super().__init__()
        self.inp = nn.Conv2d(2 * latent, hidden, 3, padding=1, padding_mode="circular")
        self.t_mlp = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.body = nn.Sequential(nn.SiLU(), nn.Conv2d(hidden, hidden, 3, padding=1, padding_mode="circular"), nn.SiLU())
        self.out = nn.Conv2d(hidden, latent, 3, padding=1, padding_mode="circular")

    def forward(self, noisy_latent, t, cond_latent):
        h = self.inp(torch.cat([noisy_latent, cond_latent], 1)) + self.t_mlp(t.float()[:, None] / 1000)[..., None, None]
        return self.out(self.body(h))


def weather_pairs(n=16, v=4, grid=(8, 16)):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(n + 1, v, *grid, generator=g).cumsum(0) * 0.25
    return s[:-1], s[1:]


def train(ae, model, ema, sched, optimizer, lr_sched, data, cfg):
    cur, nxt = data
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(cur), cfg["bs"]):
            with torch.no_grad():
                z_cond = ae.encode(cur[i:i + cfg["bs"]])
                z_next = ae.encode(nxt[i:i + cfg["bs"]])
            noise = torch.randn_like(z_next)
            t = torch.randint(0, sched.config.num_train_timesteps, (z_next.shape[0],))
            loss = F.mse_loss(model(sched.add_noise(z_next, noise, t), t, z_cond), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()
            ema.step(model.parameters())


def main():
    torch.manual_seed(0)
    ae = FieldAutoencoder(n_vars=CFG["vars"], latent=CFG["latent"])
    ae.requires_grad_(False)
    ae.eval()
    model = LatentForecaster(latent=CFG["latent"], hidden=CFG["hidden"])
    ema = EMAModel(model.parameters(), decay=0.995)
    sched = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    lr_sched = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    ae0 = ae.encoder[0].weight.detach().clone()
    inp0 = model.inp.weight.detach().clone()
    train(ae, model, ema, sched, optimizer, lr_sched, weather_pairs(), CFG)
    return {"model": model, "ae": ae}, {
        "autoencoder_unchanged": torch.equal(ae0, ae.encoder[0].weight),
        "forecaster_changed": not torch.equal(inp0, model.inp.weight),
        "ema_step_count": ema.optimization_step,
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
