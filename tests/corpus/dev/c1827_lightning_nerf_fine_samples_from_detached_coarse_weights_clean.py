import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RadianceMLP(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, pts):
        out = self.net(pts)
        return torch.sigmoid(out[..., :3]), F.softplus(out[..., 3])


def render(mlp, rays_o, rays_d, z):
    pts = rays_o[:, None] + rays_d[:, None] * z[..., None]
    rgb, sigma = mlp(pts)
    delta = torch.cat([z[:, 1:] - z[:, :-1], torch.full_like(z[:, :1], 1e3)], dim=-1)
    alpha = 1.0 - torch.exp(-sigma * delta)
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1.0 - alpha + 1e-10], dim=-1), dim=-1)[:, :-1]
    weights = alpha * trans
    return (weights[..., None] * rgb).sum(1), weights


def sample_pdf(bins, weights, n):
    pdf = (weights + 1e-5) / (weights + 1e-5).sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)
    u = torch.rand(cdf.size(0), n)
    idx = torch.searchsorted(cdf, u, right=True).clamp(1, cdf.size(1) - 1)
    lo, hi = torch.gather(cdf, 1, idx - 1), torch.gather(cdf, 1, idx)
    b_lo, b_hi = torch.gather(bins, 1, idx - 1), torch.gather(bins, 1, idx)
    t = (u - lo) / (hi - lo).clamp_min(1e-5)
    return b_lo + t * (b_hi - b_lo)


class HierarchicalNeRF(pl.LightningModule):
    def __init__(self, n_coarse=16, n_fine=16):
        super().__init__()
        self.coarse, self.fine = RadianceMLP(), RadianceMLP()
        self.n_coarse, self.n_fine = n_coarse, n_fine

    def training_step(self, batch, batch_idx):
        rays_o, rays_d, target = batch
        z = torch.linspace(2.0, 6.0, self.n_coarse).expand(rays_o.size(0), -1)
        rgb_c, weights_c = render(self.coarse, rays_o, rays_d, z)
        z_mid = 0.5 * (z[:, 1:] + z[:, :-1])
        bins_fine = sample_pdf(z_mid, weights_c[..., 1:-1].detach(), self.n_fine)
        z_all, _ = torch.sort(torch.cat([z, bins_fine], -1), -1)
        rgb_f, _ = render(self.fine, rays_o, rays_d, z_all)
        loss = F.mse_loss(rgb_c, target) + F.mse_loss(rgb_f, target)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=5e-3)


def main():
    pl.seed_everything(0)
    rays_o = torch.zeros(64, 3)
    rays_d = F.normalize(torch.randn(64, 3), dim=-1)
    target = torch.rand(64, 3)
    loader = DataLoader(TensorDataset(rays_o, rays_d, target), batch_size=32, shuffle=True)
    model = HierarchicalNeRF()
    c0, f0 = model.coarse.net[0].weight.detach().clone(), model.fine.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"coarse_changed": not torch.equal(c0, model.coarse.net[0].weight),
                              "fine_changed": not torch.equal(f0, model.fine.net[0].weight)}

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
