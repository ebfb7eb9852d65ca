import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def positional_encoding(x, n_freq=4):
    out = [x]
    for k in range(n_freq):
        out += [torch.sin((2.0 ** k) * x), torch.cos((2.0 ** k) * x)]
    return torch.cat(out, -1)


class RadianceField(nn.Module):
    def __init__(self, n_freq=4, hidden=32):
        super().__init__()
        self.n_freq = n_freq
        self.mlp = nn.Sequential(nn.Linear(3 * (1 + 2 * n_freq), hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, pts):
        return self.mlp(positional_encoding(pts, self.n_freq))


def render_rays(field, rays_o, rays_d, z_vals):
    pts = rays_o[:, None] + rays_d[:, None] * z_vals[..., None]
    raw = field(pts)
    rgb, sigma = torch.sigmoid(raw[..., :3]), F.softplus(raw[..., 3])
    deltas = torch.cat([z_vals[:, 1:] - z_vals[:, :-1], 1e10 * torch.ones_like(z_vals[:, :1])], -1)
    alpha = 1 - torch.exp(-sigma * deltas)
    trans = torch.cat([torch.ones_like(alpha[:, :1]), torch.cumprod(1 - alpha + 1e-10, -1)[:, :-1]], -1)
    weights = alpha * trans
    return (weights[..., None] * rgb).sum(1), weights


def sample_pdf(bins, weights, n_samples):
    pdf = (weights + 1e-5) / (weights + 1e-5).sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)
    u = torch.linspace(0, 1, n_samples).expand(cdf.shape[0], n_samples).contiguous()
    inds = torch.searchsorted(cdf, u, right=True)
    below, above = (inds - 1).clamp(min=0), inds.clamp(max=cdf.shape[-1] - 1)
    cdf_b, cdf_a = torch.gather(cdf, 1, below), torch.gather(cdf, 1, above)
    bins_b, bins_a = torch.gather(bins, 1, below), torch.gather(bins, 1, above)
    denom = torch.where(cdf_a - cdf_b < 1e-5, torch.ones_like(cdf_a), cdf_a - cdf_b)
    return bins_b + (u - cdf_b) / denom * (bins_a - bins_b)


class NeRFSystem(pl.LightningModule):
    def __init__(self, n_coarse=16, n_fine=16, near=1.0, far=3.0, lr=5e-3):
        super().__init__()
        self.coarse = RadianceField()
        self.fine = RadianceField()
        self.n_coarse, self.n_fine, self.near, self.far, self.lr = n_coarse, n_fine, near, far, lr

    def training_step(self, batch, batch_idx):
        rays_o, rays_d, target = batch
        z = torch.linspace(self.near, self.far, self.n_coarse).expand(rays_o.shape[0], self.n_coarse)
        rgb_coarse, w_coarse = render_rays(self.coarse, rays_o, rays_d, z)
        z_mid = 0.5 * (z[:, 1:] + z[:, :-1])
        z_fine = sample_pdf(z_mid, w_coarse[:, 1:-1].detach(), self.n_fine)
        z_all, _ = torch.sort(torch.cat([z, z_fine], -1), -1)
        rgb_fine, _ = render_rays(self.fine, rays_o, rays_d, z_all)
        loss = F.mse_loss(rgb_coarse, target) + F.mse_loss(rgb_fine, target)
        self.log("train/psnr", -10 * torch.log10(F.mse_loss(rgb_fine, target).detach()))
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)]


def make_rays(n=64):
    g = torch.Generator().manual_seed(0)
    rays_o = torch.zeros(n, 3)
    rays_d = F.normalize(torch.cat([0.3 * torch.randn(n, 2, generator=g), torch.ones(n, 1)], -1), dim=-1)
    target = torch.sigmoid(torch.cat([rays_d[:, :2] * 4, (rays_d[:, :1] * rays_d[:, 1:2]) * 8], -1))
    return DataLoader(TensorDataset(rays_o, rays_d, target), batch_size=16, shuffle=True)


def main():
    pl.seed_everything(0)
    system = NeRFSystem()
    c0 = system.coarse.mlp[0].weight.detach().clone()
    f0 = system.fine.mlp[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(system, make_rays())
    return {"system": system}, {
        "coarse_changed": not torch.equal(c0, system.coarse.mlp[0].weight),
        "fine_changed": not torch.equal(f0, system.fine.mlp[0].weight),
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
