import torch
import torch.nn as nn
from lightning.fabric import Fabric


class ApplyPoseDelta(torch.autograd.Function):
    """rays' = small-angle rotation (delta[:3]) + translation (delta[3:]) of the camera rays."""

    @staticmethod
    def forward(ctx, origins, dirs, delta):
        rot, trans = delta[..., :3], delta[..., 3:]
        new_dirs = dirs + torch.cross(rot.expand_as(dirs), dirs, dim=-1)
        ctx.save_for_backward(rot)
        return origins + trans, new_dirs

    @staticmethod
    def backward(ctx, grad_o, grad_d):
        (rot,) = ctx.saved_tensors
        grad_origins = grad_o
        grad_dirs = grad_d - torch.cross(rot.expand_as(grad_d), grad_d, dim=-1)
        return grad_origins, grad_dirs, None


class RadianceField(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, pts):
        out = self.net(pts)
        return torch.sigmoid(out[..., :3]), torch.relu(out[..., 3])


class PoseRefinedNeRF(nn.Module):
    def __init__(self, n_cams=4, n_samples=12):
        super().__init__()
        self.field = RadianceField()
        self.pose_delta = nn.Parameter(torch.zeros(n_cams, 6))
        self.n_samples = n_samples

    def forward(self, origins, dirs, cam_ids):
        origins, dirs = ApplyPoseDelta.apply(origins, dirs, self.pose_delta[cam_ids])
        z = torch.linspace(0.5, 3.0, self.n_samples)
        pts = origins[:, None] + dirs[:, None] * z[None, :, None]
        rgb, sigma = self.field(pts)
        alpha = 1 - torch.exp(-sigma * (z[1] - z[0]))
        trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1]], dim=1), dim=1)
        return ((alpha * trans)[..., None] * rgb).sum(1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = PoseRefinedNeRF()
    optimizer = torch.optim.Adam([{"params": model.field.parameters(), "lr": 5e-3},
                                  {"params": [model.pose_delta], "lr": 1e-3}])
    model, optimizer = fabric.setup(model, optimizer)
    origins, dirs = torch.randn(64, 3) * 0.1, nn.functional.normalize(torch.randn(64, 3), dim=-1)
    cam_ids, target = torch.randint(0, 4, (64,)), torch.rand(64, 3)
    p0 = model.module.pose_delta.detach().clone()
    for i in range(0, 64, 16):
        loss = (model(origins[i:i + 16], dirs[i:i + 16], cam_ids[i:i + 16]) - target[i:i + 16]).pow(2).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}, {"poses_changed": not torch.equal(p0, model.module.pose_delta.detach())}

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
