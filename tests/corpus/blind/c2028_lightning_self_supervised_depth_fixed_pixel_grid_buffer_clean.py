import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BackprojectDepth(nn.Module):
    """Lifts a depth map to camera points; the homogeneous pixel grid is a constant buffer."""

    def __init__(self, height, width):
        super().__init__()
        ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij")
        grid = torch.stack([xs.flatten(), ys.flatten(), torch.ones(height * width)])
        self.register_buffer("pix_coords", grid, persistent=False)

    def forward(self, depth, inv_K):
        cam = inv_K @ self.pix_coords
        return depth.flatten(1)[:, None] * cam


class DepthNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ELU(), nn.Conv2d(8, 8, 3, padding=1), nn.ELU())
        self.disp = nn.Sequential(nn.Conv2d(8, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.disp(self.enc(x))


class MonoDepthModule(pl.LightningModule):
    def __init__(self, h=8, w=8, min_depth=0.1, max_depth=10.0):
        super().__init__()
        self.depth_net = DepthNet()
        self.pose_scale = nn.Parameter(torch.tensor(0.01))
        self.backproject = BackprojectDepth(h, w)
        self.heads = nn.ModuleDict({"smooth": nn.Identity()})
        self.min_depth, self.max_depth = min_depth, max_depth
        self.register_buffer("inv_K", torch.linalg.inv(torch.tensor([[4.0, 0, 4], [0, 4.0, 4], [0, 0, 1]])))

    def disp_to_depth(self, disp):
        min_disp, max_disp = 1 / self.max_depth, 1 / self.min_depth
        return 1 / (min_disp + (max_disp - min_disp) * disp)

    def training_step(self, batch, batch_idx):
        frame, target_points = batch
        depth = self.disp_to_depth(self.depth_net(frame))
        points = self.backproject(depth, self.inv_K) + self.pose_scale
        disp = self.heads["smooth"](1 / depth)
        smooth = (disp[..., 1:] - disp[..., :-1]).abs().mean()
        loss = F.smooth_l1_loss(points, target_points) + 1e-3 * smooth
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    frames = torch.rand(8, 3, 8, 8)
    targets = torch.rand(8, 3, 64) * 3
    loader = DataLoader(TensorDataset(frames, targets), batch_size=4, shuffle=True)
    model = MonoDepthModule()
    grid0 = model.backproject.pix_coords.clone()
    s0 = model.pose_scale.item()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"pixel_grid_unchanged": torch.equal(grid0, model.backproject.pix_coords),
             "pose_scale_learned": model.pose_scale.item() != s0,
             "n_trainable": sum(1 for _ in model.parameters())})

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
