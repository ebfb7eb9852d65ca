import math

import torch
import torch.nn as nn
from diffusers import DDPMScheduler, ModelMixin, register_to_config

CFG = {"dim": 16, "guidance": 7.5, "lr": 1e-2, "steps": 8, "t_min": 20, "t_max": 980}


class SpecifyGradient(torch.autograd.Function):
    """Score distillation: inject a precomputed gradient into the rendered latents (loss value is a dummy)."""

    @staticmethod
    def forward(ctx, latents, grad):
        ctx.save_for_backward(grad)
        return torch.ones([1], device=latents.device, dtype=latents.dtype)

    @staticmethod
    def backward(ctx, grad_scale):
        (grad,) = ctx.saved_tensors
        return grad * grad_scale, None


class FrozenEpsModel(ModelMixin):
    @register_to_config
    def __init__(self, dim=16, hidden=48):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 2, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x, t, cond):
        return self.net(torch.cat([x, t.float()[:, None] / 1000.0, cond[:, None]], dim=1))


class LatentRenderer(nn.Module):
    """The 'scene' being optimized: a tiny generator of latents from fixed view codes."""

    def __init__(self, dim):
        super().__init__()
        self.scene = nn.Parameter(torch.zeros(dim))
        self.view_mlp = nn.Linear(4, dim)

    def forward(self, views):
        return self.scene + self.view_mlp(views)


def sds_step(renderer, unet, scheduler, views, cfg):
    latents = renderer(views)
    t = torch.randint(cfg["t_min"], cfg["t_max"], (latents.size(0),))
    noise = torch.randn_like(latents)
    with torch.no_grad():
        noisy = scheduler.add_noise(latents, noise, t)
        eps_c = unet(noisy, t, torch.ones(len(t)))
        eps_u = unet(noisy, t, torch.zeros(len(t)))
        eps = eps_u + cfg["guidance"] * (eps_c - eps_u)
    w = (1 - scheduler.alphas_cumprod[t]).view(-1, 1)
    grad = torch.nan_to_num(w * (eps - noise))
    return SpecifyGradient.apply(latents, grad)


def main():
    torch.manual_seed(0)
    unet = FrozenEpsModel(CFG["dim"]).requires_grad_(False)
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    renderer = LatentRenderer(CFG["dim"])
    optimizer = torch.optim.Adam(renderer.parameters(), lr=CFG["lr"])
    views = torch.randn(4, 4)
    s0 = renderer.scene.detach().clone()
    for step in range(CFG["steps"]):
        loss = sds_step(renderer, unet, scheduler, views, CFG)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"renderer": renderer}, {"scene_changed": not torch.equal(s0, renderer.scene.detach())}

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
