import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class GridQuery(torch.autograd.Function):
    """Trilinear feature-grid lookup with a hand-written backward (stand-in for the fused kernel)."""

    @staticmethod
    def forward(ctx, pts, table):
        ctx.save_for_backward(pts, table)
        return F.grid_sample(table, pts.view(1, -1, 1, 1, 3), align_corners=True).view(table.size(1), -1).t()

    @staticmethod
    def backward(ctx, grad_out):
        pts, table = ctx.saved_tensors
        with torch.enable_grad():
            table_ = table.detach().requires_grad_()
            out = F.grid_sample(table_, pts.detach().view(1, -1, 1, 1, 3), align_corners=True).view(table.size(1), -1).t()
            (grad_table,) = torch.autograd.grad(out, (table_,), grad_out)
        return None, grad_table


class GridField(nn.Module):
    def __init__(self, res=6, feat=4):
        super().__init__()
        self.table = nn.Parameter(0.1 * torch.randn(1, feat, res, res, res))
        self.head = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, pts):
        out = self.head(GridQuery.apply(pts.clamp(-1, 1), self.table))
        return F.softplus(out[:, 0]), torch.sigmoid(out[:, 1:])


class PoseCorrection(nn.Module):
    def __init__(self, n_cams):
        super().__init__()
        self.translation = nn.Parameter(torch.zeros(n_cams, 3))

    def forward(self, cam_idx, origins):
        return origins + self.translation[cam_idx]


def render(field, origins, dirs, n_samples=8):
    t = torch.linspace(0.05, 1.0, n_samples)
    pts = origins[:, None] + dirs[:, None] * t[None, :, None]
    sigma, rgb = field(pts.reshape(-1, 3))
    alpha = 1 - torch.exp(-sigma.view(-1, n_samples) * (t[1] - t[0]))
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1]], -1), -1)
    return ((alpha * trans)[..., None] * rgb.view(-1, n_samples, 3)).sum(1)


def train_one_epoch(field, poses, batches, optimizer, accelerator):
    for origins, dirs, cam_idx, target in batches:
        rgb = render(field, poses(cam_idx, origins), dirs)
        loss = F.mse_loss(rgb, target)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return loss.item()


def ray_batches(n_batches=4, n=32, n_cams=3):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n_batches):
        out.append((torch.rand(n, 3, generator=g) * 0.4 - 0.2, F.normalize(torch.randn(n, 3, generator=g), dim=-1),
                    torch.randint(0, n_cams, (n,), generator=g), torch.rand(n, 3, generator=g)))
    return out


def main():
    set_seed(0)
    accelerator = Accelerator()
    field, poses = GridField(), PoseCorrection(n_cams=3)
    optimizer = torch.optim.Adam([{"params": field.parameters(), "lr": 1e-2},
                                  {"params": poses.parameters(), "lr": 1e-3}])
    field, poses, optimizer = accelerator.prepare(field, poses, optimizer)
    for _ in range(2):
        train_one_epoch(field, poses, ray_batches(), optimizer, accelerator)
    return {"field": field, "poses": poses}, {"pose_moved": bool(poses.translation.abs().sum() > 0)}

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
