import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class LatentDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, latent_dim=16, hidden=64, depth=2):
        super().__init__()
        self.in_proj = nn.Linear(latent_dim + 1, hidden)
        self.self_cond_proj = nn.Linear(latent_dim, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.out_proj = nn.Linear(hidden, latent_dim)

    def forward(self, z_t, t, x_self_cond=None):
        if x_self_cond is None:
            x_self_cond = torch.zeros_like(z_t)
        h = self.in_proj(torch.cat([z_t, t[:, None].float() / 1000.0], -1)) + self.self_cond_proj(x_self_cond)
        for blk in self.blocks:
            h = h + F.silu(blk(h))
        return self.out_proj(h)


def x0_from_eps(scheduler, z_t, eps, t):
    a = scheduler.alphas_cumprod[t][:, None]
    return (z_t - (1 - a).sqrt() * eps) / a.sqrt()


@torch.no_grad()
def sample(model, scheduler, n=4, steps=(999, 666, 333, 0)):
    z = torch.randn(n, 16)
    x_self_cond = None
    for t in steps:
        tt = torch.full((n,), t)
        x_self_cond = x0_from_eps(scheduler, z, model(z, tt, x_self_cond), tt)
        z = x_self_cond if t == 0 else scheduler.add_noise(x_self_cond, torch.randn_like(z), torch.full((n,), max(t - 333, 0)))
    return z


def main():
    torch.manual_seed(0)
    model = LatentDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    latents = torch.randn(64, 16)
    w0 = model.in_proj.weight.detach().clone()
    for i in range(0, 64, 16):
        z0 = latents[i:i + 16]
        noise = torch.randn_like(z0)
        t = torch.randint(0, 1000, (z0.size(0),))
        z_t = scheduler.add_noise(z0, noise, t)
        x_self_cond = None
        if torch.rand(()) < 0.5 or i == 48:
            with torch.no_grad():
                x_self_cond = x0_from_eps(scheduler, z_t, model(z_t, t), t)
        loss = F.mse_loss(model(z_t, t, x_self_cond), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    sample(model, scheduler)
    return {"model": model}, {"in_proj_changed": not torch.equal(w0, model.in_proj.weight)}

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
