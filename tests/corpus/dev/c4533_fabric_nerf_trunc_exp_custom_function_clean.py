import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"n_freqs": 4, "hidden": 32, "samples": 16, "near": 1.0, "far": 3.0, "lr": 5e-3, "steps": 4, "rays": 64}


class TruncExp(torch.autograd.Function):
    """exp() for densities with a clamped backward (torch-ngp): avoids overflow on large pre-activations."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.exp(x.clamp(-15, 15))


trunc_exp = TruncExp.apply


def positional_encoding(x, n_freqs):
    freqs = 2.0 ** torch.arange(n_freqs, dtype=x.dtype) * torch.pi
    angles = x[..., None] * freqs
    return torch.cat([x, torch.sin(angles).flatten(-2), torch.cos(angles).flatten(-2)], dim=-1)


class TinyNeRF(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d_in = 3 + 6 * cfg["n_freqs"]
        self.trunk = nn.Sequential(nn.Linear(d_in, cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU())
        self.density_head = nn.Linear(cfg["hidden"], 1)
        self.color_head = nn.Sequential(nn.Linear(cfg["hidden"] + 3, cfg["hidden"] // 2), nn.ReLU(),
                                        nn.Linear(cfg["hidden"] // 2, 3))
        self.n_freqs = cfg["n_freqs"]

    def forward(self, pts, dirs):
        h = self.trunk(positional_encoding(pts, self.n_freqs))
        sigma = trunc_exp(self.density_head(h).squeeze(-1) - 1.0)
        rgb = torch.sigmoid(self.color_head(torch.cat([h, dirs], -1)))
        return sigma, rgb


def volume_render(model, rays_o, rays_d, cfg):
    t = torch.linspace(cfg["near"], cfg["far"], cfg["samples"])
    t = t + torch.rand(len(rays_o), cfg["samples"]) * (cfg["far"] - cfg["near"]) / cfg["samples"]
    pts = rays_o[:, None] + rays_d[:, None] * t[..., None]
    sigma, rgb = model(pts.reshape(-1, 3), rays_d.repeat_interleave(cfg["samples"], 0))
    sigma, rgb = sigma.view(-1, cfg["samples"]), rgb.view(-1, cfg["samples"], 3)
    delta = torch.cat([t[:, 1:] - t[:, :-1], torch.full_like(t[:, :1], 1e10)], -1)
    alpha = 1 - torch.exp(-sigma * delta)
    weights = alpha * torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha + 1e-10], -1), -1)[:, :-1]
    return (weights[..., None] * rgb).sum(1), weights.sum(-1)


def sample_rays(n, g):
    rays_o = torch.tensor([0.0, 0.0, -2.0]) + 0.1 * torch.randn(n, 3, generator=g)
    rays_d = F.normalize(torch.tensor([0.0, 0.0, 1.0]) + 0.3 * torch.randn(n, 3, generator=g), dim=-1)
    target = torch.sigmoid(3 * rays_d)
    return rays_o, rays_d, target


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = TinyNeRF(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"], eps=1e-15)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    dens0 = model.module.density_head.weight.detach().clone()
    col0 = model.module.color_head[0].weight.detach().clone()
    for step in range(CFG["steps"]):
        rays_o, rays_d, target = sample_rays(CFG["rays"], g)
        rgb, acc = volume_render(model, rays_o, rays_d, CFG)
        loss = F.mse_loss(rgb, target) + 1e-3 * (acc * (1 - acc)).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}, {
        "density_head_changed": not torch.equal(dens0, model.module.density_head.weight),
        "color_head_changed": not torch.equal(col0, model.module.color_head[0].weight),
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
