import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def quat_to_matrix(q):
    w, x, y, z = F.normalize(q, dim=0)
    return torch.stack([
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)]),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)]),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)])])


class GaussianMap(nn.Module):
    def __init__(self, n=40):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.means3D = nn.Parameter(torch.rand(n, 3, generator=g) - 0.5)
        self.rgb = nn.Parameter(torch.rand(n, 3, generator=g))
        self.log_scale = nn.Parameter(torch.full((n,), -2.3))


def transformed_params(gmap, cam_rot, cam_trans, gaussians_grad):
    """SplaTAM: during tracking only the camera is optimized, so the map is detached."""
    means = gmap.means3D if gaussians_grad else gmap.means3D.detach()
    rgb = gmap.rgb if gaussians_grad else gmap.rgb.detach()
    scale = gmap.log_scale if gaussians_grad else gmap.log_scale.detach()
    return means @ quat_to_matrix(cam_rot).t() + cam_trans, rgb, scale


def splat(pts, rgb, log_scale, image_size=10):
    uv = pts[:, :2] / (2.5 + pts[:, 2:3])
    lin = torch.linspace(-0.5, 0.5, image_size)
    pix = torch.stack(torch.meshgrid(lin, lin, indexing="ij"), -1).view(-1, 2)
    w = torch.exp(-((pix[:, None] - uv[None]) ** 2).sum(-1) / (2 * torch.exp(log_scale) ** 2))
    return ((w @ rgb) / (w.sum(-1, keepdim=True) + 1e-2)).view(image_size, image_size, 3)


class TrackingStage(pl.LightningModule):
    """Tracks the new frame's camera pose against a fixed, previously mapped scene."""

    def __init__(self, gmap, lr_rot=5e-3, lr_trans=5e-3):
        super().__init__()
        self.gmap = gmap
        self.cam_rot = nn.Parameter(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        self.cam_trans = nn.Parameter(torch.zeros(3))
        self.lr_rot, self.lr_trans = lr_rot, lr_trans

    def training_step(self, batch, batch_idx):
        (frame,) = batch
        pts, rgb, scale = transformed_params(self.gmap, self.cam_rot, self.cam_trans, gaussians_grad=False)
        loss = F.l1_loss(splat(pts, rgb, scale), frame[0])
        self.log("track/l1", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam([{"params": [self.cam_rot], "lr": self.lr_rot},
                                 {"params": [self.cam_trans], "lr": self.lr_trans}])


def main():
    pl.seed_everything(0)
    gmap = GaussianMap()
    with torch.no_grad():
        pts, rgb, scale = transformed_params(gmap, torch.tensor([0.99, 0.05, 0.0, 0.0]), torch.tensor([0.05, 0.0, 0.0]), False)
        frame = splat(pts, rgb, scale)
    loader = DataLoader(TensorDataset(frame.unsqueeze(0).repeat(8, 1, 1, 1)), batch_size=1)
    tracker = TrackingStage(gmap)
    means0 = gmap.means3D.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(tracker, loader)
    return {"tracker": tracker}, {
        "pose_changed": not torch.equal(tracker.cam_trans.detach(), torch.zeros(3)),
        "map_fixed": torch.equal(means0, gmap.means3D),
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
