import torch
import torch.nn as nn
import torch.nn.functional as F


def skew(w):
    zero = torch.zeros_like(w[:, 0])
    return torch.stack([zero, -w[:, 2], w[:, 1], w[:, 2], zero, -w[:, 0], -w[:, 1], w[:, 0], zero], -1).view(-1, 3, 3)


def se3_to_matrix(delta):
    """First-order SE(3) update: rotation I + [w]_x, translation v."""
    rot = torch.eye(3).expand(delta.size(0), 3, 3) + skew(delta[:, :3])
    return rot, delta[:, 3:]


class TinyNeRF(nn.Module):
    def __init__(self, n_freqs=4, hidden=32):
        super().__init__()
        self.n_freqs = n_freqs
        in_dim = 3 + 3 * 2 * n_freqs
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def encode(self, x):
        freqs = 2.0 ** torch.arange(self.n_freqs) * torch.pi
        ang = x[..., None] * freqs
        return torch.cat([x, ang.sin().flatten(-2), ang.cos().flatten(-2)], -1)

    def forward(self, pts):
        out = self.mlp(self.encode(pts))
        return F.softplus(out[..., 0]), torch.sigmoid(out[..., 1:])


class CameraRefiner:
    """BARF-style per-camera pose correction, initialised with a small perturbation."""

    def __init__(self, n_cams, init_std=1e-3):
        self.delta = torch.randn(n_cams, 6, requires_grad=True) * init_std

    def apply(self, cam_idx, origins, dirs):
        rot, trans = se3_to_matrix(self.delta[cam_idx])
        return (rot @ origins[..., None]).squeeze(-1) + trans, (rot @ dirs[..., None]).squeeze(-1)


def render(model, origins, dirs, n_samples=12):
    t = torch.linspace(0.1, 1.5, n_samples)
    pts = origins[:, None] + dirs[:, None] * t[None, :, None]
    sigma, rgb = model(pts)
    alpha = 1 - torch.exp(-sigma * (t[1] - t[0]))
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1]], -1), -1)
    return ((alpha * trans)[..., None] * rgb).sum(1)


def build_optimizer(model, refiner, cfg):
    return torch.optim.Adam([
        {"params": model.parameters(), "lr": cfg["lr_field"]},
        {"params": [refiner.delta], "lr": cfg["lr_pose"]},
    ])


def train(model, refiner, rays, cfg):
    optimizer = build_optimizer(model, refiner, cfg)
    origins, dirs, cam_idx, target = rays
    for step in range(cfg["steps"]):
        sel = torch.randint(0, origins.size(0), (32,))
        o, d = refiner.apply(cam_idx[sel], origins[sel], dirs[sel])
        loss = F.mse_loss(render(model, o, d), target[sel])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def synthetic_rays(n_cams=4, per_cam=32):
    g = torch.Generator().manual_seed(0)
    n = n_cams * per_cam
    origins = torch.randn(n, 3, generator=g) * 0.1
    dirs = F.normalize(torch.randn(n, 3, generator=g), dim=-1)
    cam_idx = torch.arange(n_cams).repeat_interleave(per_cam)
    return origins, dirs, cam_idx, torch.rand(n, 3, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"lr_field": 5e-3, "lr_pose": 1e-3, "steps": 6}
    model = TinyNeRF()
    refiner = CameraRefiner(n_cams=4)
    train(model, refiner, synthetic_rays(), cfg)
    return {"model": model, "pose_delta": refiner.delta}

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
