import torch
import torch.nn as nn
import torch.nn.functional as F


def se3_exp_translation_only(delta):
    """Small-motion pose update: rotation kept fixed, translation refined (BARF-style warm-up stage)."""
    return delta[:, 3:]


class TinyRadianceField(nn.Module):
    def __init__(self, n_freq=4, hidden=32):
        super().__init__()
        self.n_freq = n_freq
        self.mlp = nn.Sequential(nn.Linear(3 + 6 * n_freq, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 4))

    def encode(self, p):
        freqs = 2.0 ** torch.arange(self.n_freq, dtype=p.dtype)
        ang = p[..., None] * freqs
        return torch.cat([p, ang.sin().flatten(-2), ang.cos().flatten(-2)], -1)

    def forward(self, points):
        out = self.mlp(self.encode(points))
        return torch.sigmoid(out[..., :3]), F.relu(out[..., 3])


def render_rays(field, origins, dirs, n_samples=8):
    t = torch.linspace(0.5, 2.0, n_samples, dtype=origins.dtype)
    pts = origins[:, None] + dirs[:, None] * t[None, :, None]
    rgb, sigma = field(pts.float())
    alpha = 1 - torch.exp(-sigma * (1.5 / n_samples))
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1] + 1e-10], 1), 1)
    return ((alpha * trans)[..., None] * rgb).sum(1)


def main():
    torch.manual_seed(0)
    n_cams, rays_per = 4, 16
    field = TinyRadianceField()
    compiled_field = torch.compile(field, backend="eager")
    # pose math is done in double precision
    pose_delta = torch.zeros(n_cams, 6, requires_grad=True).to(torch.float64)
    optimizer = torch.optim.Adam([{"params": field.parameters(), "lr": 5e-3},
                                  {"params": [pose_delta], "lr": 1e-3}])
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.99)
    g = torch.Generator().manual_seed(0)
    cam_origins = torch.randn(n_cams, 3, generator=g, dtype=torch.float64) * 0.1
    dirs = F.normalize(torch.randn(n_cams, rays_per, 3, generator=g, dtype=torch.float64), dim=-1)
    target = torch.rand(n_cams, rays_per, 3, generator=g)
    for step in range(5):
        origins = cam_origins + se3_exp_translation_only(pose_delta)
        pred = render_rays(compiled_field, origins.repeat_interleave(rays_per, 0), dirs.reshape(-1, 3))
        loss = F.mse_loss(pred, target.reshape(-1, 3))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return {"field": field, "pose_delta": pose_delta}

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
