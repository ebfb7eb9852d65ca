import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

FINETUNE = {
    "unfreeze": ["time_mlp", "out_proj"],   # adapt timestep conditioning and the output head to the new category
    "lr": 1e-3, "cond_lr": 2e-3, "steps": 6, "batch": 4, "num_points": 64,
}


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class PointDenoiser(ModelMixin):
    """PVD-style point-wise noise predictor: shared point MLP + max-pooled global context + time/shape conditioning."""

    @register_to_config
    def __init__(self, hidden=64, time_dim=32, cond_dim=16):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.in_proj = nn.Linear(3, hidden)
        self.local = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.cond_proj = nn.Linear(cond_dim, hidden)
        self.fuse = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU())
        self.out_proj = nn.Linear(hidden, 3)

    def forward(self, x, t, cond):
        h = self.in_proj(x) + self.time_mlp(timestep_embedding(t, self.config.time_dim))[:, None]
        h = h + self.cond_proj(cond)[:, None]
        h = self.local(h)
        g = h.max(dim=1, keepdim=True)[0].expand_as(h)
        return self.out_proj(self.fuse(torch.cat([h, g], -1)))


class ShapeEncoder(nn.Module):
    """New conditioning branch: encodes a partial scan into the shape latent."""

    def __init__(self, cond_dim=16):
        super().__init__()
        self.point_mlp = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, cond_dim))

    def forward(self, partial):
        return self.point_mlp(partial).max(dim=1)[0]


def prepare_for_finetune(unet, cfg):
    unet.requires_grad_(False)
    for name in cfg["unfreeze"]:
        getattr(unet, name).requires_grad = True
    return [p for p in unet.parameters() if p.requires_grad]


def make_batch(cfg, g):
    theta = torch.rand(cfg["batch"], cfg["num_points"], generator=g) * 2 * math.pi
    z = torch.rand(cfg["batch"], cfg["num_points"], 1, generator=g) * 2 - 1
    pts = torch.stack([torch.cos(theta), torch.sin(theta)], -1) * (1 - z.abs())
    clouds = torch.cat([pts, z], -1)
    return clouds, clouds[:, : cfg["num_points"] // 2]


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    unet = PointDenoiser()
    encoder = ShapeEncoder(unet.config.cond_dim)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    unet_params = prepare_for_finetune(unet, FINETUNE)
    optimizer = torch.optim.AdamW([
        {"params": unet_params, "lr": FINETUNE["lr"]},
        {"params": encoder.parameters(), "lr": FINETUNE["cond_lr"]},
    ], weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant", optimizer)
    t0 = unet.time_mlp[0].weight.detach().clone()
    out0 = unet.out_proj.weight.detach().clone()
    enc0 = encoder.point_mlp[0].weight.detach().clone()
    for step in range(FINETUNE["steps"]):
        clouds, partial = make_batch(FINETUNE, g)
        optimizer.zero_grad()
        noise = torch.randn_like(clouds)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (clouds.shape[0],))
        noisy = noise_scheduler.add_noise(clouds, noise, t)
        loss = F.mse_loss(unet(noisy, t, encoder(partial)), noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"unet": unet}, {
        "time_mlp_changed": not torch.equal(t0, unet.time_mlp[0].weight),
        "out_proj_changed": not torch.equal(out0, unet.out_proj.weight),
        "shape_encoder_changed": not torch.equal(enc0, encoder.point_mlp[0].weight),
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
