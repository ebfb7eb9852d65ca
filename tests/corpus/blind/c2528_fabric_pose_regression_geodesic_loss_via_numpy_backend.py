import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def rotation_from_6d(x):
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-2)


class GeometryBackend:
    """Small manifold toolbox; operations run in numpy and come back as tensors."""

    @staticmethod
    def geodesic_distance(R_pred, R_true):
        a = R_pred.detach().cpu().numpy()
        b = R_true.detach().cpu().numpy()
        rel = np.einsum("bij,bkj->bik", a, b)
        cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)
        return torch.from_numpy(np.arccos(cos)).to(R_pred.dtype)


class PoseNet(nn.Module):
    def __init__(self, in_dim=24, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.rot_head = nn.Linear(hidden, 6)
        self.trans_head = nn.Linear(hidden, 3)

    def forward(self, feats):
        h = self.trunk(feats)
        return rotation_from_6d(self.rot_head(h)), self.trans_head(h)


def pose_loss(geo, R_pred, t_pred, R_true, t_true, w_rot=1.0):
    rot = geo.geodesic_distance(R_pred, R_true).mean()
    trans = F.l1_loss(t_pred, t_true)
    return w_rot * rot + trans


def random_rotations(n, g):
    q = F.normalize(torch.randn(n, 4, generator=g), dim=-1)
    w, x, y, z = q.unbind(-1)
    return torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1).view(n, 3, 3)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    R, t = random_rotations(32, g), torch.randn(32, 3, generator=g)
    feats = torch.cat([R.flatten(1), t, torch.randn(32, 12, generator=g)], dim=1)
    model = PoseNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(feats, R, t), batch_size=8, shuffle=True))
    geo = GeometryBackend()
    for x, R_true, t_true in loader:
        R_pred, t_pred = model(x)
        loss = pose_loss(geo, R_pred, t_pred, R_true, t_true)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
