import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def sample_grid(grid, xyz):
    """Trilinear lookup of a dense feature volume at points in [-1, 1]^3 (as TensoRF's feature queries do)."""
    coords = xyz.detach().view(1, -1, 1, 1, 3)
    feats = F.grid_sample(grid, coords, mode="bilinear", align_corners=True)
    return feats.view(grid.shape[1], -1).t()


class PointRefiner(nn.Module):
    """Predicts a small offset for every ray sample (the learnable position correction added on top of the grid)."""

    def __init__(self, hidden=32, max_offset=0.1):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 3))
        self.max_offset = max_offset

    def forward(self, pts):
        return pts + self.max_offset * torch.tanh(self.mlp(pts))


class GridRadianceField(pl.LightningModule):
    def __init__(self, res=8, app_dim=6, n_samples=16, lr=2e-2):
        super().__init__()
        self.density = nn.Parameter(0.1 * torch.randn(1, 1, res, res, res))
        self.appearance = nn.Parameter(0.1 * torch.randn(1, app_dim, res, res, res))
        self.color_head = nn.Linear(app_dim, 3)
        self.refiner = PointRefiner()
        self.n_samples, self.lr = n_samples, lr

    def render(self, rays_o, rays_d):
        t = torch.linspace(0.0, 1.6, self.n_samples)
        pts = (rays_o[:, None] + rays_d[:, None] * t[None, :, None]).clamp(-1, 1)
        pts = self.refiner(pts.reshape(-1, 3))
        sigma = F.softplus(sample_grid(self.density, pts)).view(-1, self.n_samples)
        rgb = torch.sigmoid(self.color_head(sample_grid(self.appearance, pts))).view(-1, self.n_samples, 3)
        alpha = 1 - torch.exp(-sigma * (1.6 / self.n_samples))
        trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha + 1e-10], -1), -1)[:, :-1]
        return ((alpha * trans)[..., None] * rgb).sum(1)

    def training_step(self, batch, batch_idx):
        rays_o, rays_d, target = batch
        loss = F.mse_loss(self.render(rays_o, rays_d), target)
        self.log("train/mse", loss)
        return loss

    def configure_optimizers(self):
        grid_params = [self.density, self.appearance]
        other = list(self.color_head.parameters()) + list(self.refiner.parameters())
        return torch.optim.Adam([{"params": grid_params, "lr": self.lr}, {"params": other, "lr": 1e-3}])


def make_rays(n=64):
    g = torch.Generator().manual_seed(0)
    rays_o = torch.cat([0.8 * (torch.rand(n, 2, generator=g) * 2 - 1), -torch.ones(n, 1)], -1)
    rays_d = F.normalize(torch.cat([0.1 * torch.randn(n, 2, generator=g), torch.ones(n, 1)], -1), dim=-1)
    target = torch.sigmoid(4 * torch.cat([rays_o[:, :2], rays_o[:, :1] * rays_o[:, 1:2]], -1))
    return DataLoader(TensorDataset(rays_o, rays_d, target), batch_size=16, shuffle=True)


def main():
    pl.seed_everything(0)
    field = GridRadianceField()
    ref0 = field.refiner.mlp[0].weight.detach().clone()
    grid0 = field.density.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(field, make_rays())
    return {"field": field}, {
        "refiner_changed": not torch.equal(ref0, field.refiner.mlp[0].weight),
        "density_grid_changed": not torch.equal(grid0, field.density),
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
