import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"size": 16, "landmarks": 3, "lr": 1e-3, "w_coord": 1.0, "sigma": 1.5}


class HeatmapNet(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.heat = nn.Conv2d(16, k, 1)
        self.log_beta = nn.Parameter(torch.zeros(k))

    def forward(self, x):
        return self.heat(self.body(x))


def decode_coords(heatmaps, log_beta):
    """Sharpen each heatmap with a learned per-landmark inverse temperature and read off its peak (x, y)."""
    B, K, H, W = heatmaps.shape
    sharp = heatmaps.flatten(2) * log_beta.exp().view(1, K, 1)
    idx = sharp.argmax(-1)
    return torch.stack([idx % W, idx // W], dim=-1).float()


def gaussian_targets(coords, size, sigma):
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    d2 = (xx[None, None] - coords[..., 0, None, None]) ** 2 + (yy[None, None] - coords[..., 1, None, None]) ** 2
    return torch.exp(-d2 / (2 * sigma ** 2))


class LandmarkModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.net = HeatmapNet(cfg["landmarks"])

    def training_step(self, batch, batch_idx):
        images, coords = batch
        heat = self.net(images)
        loss_heat = F.mse_loss(heat.sigmoid(), gaussian_targets(coords, self.cfg["size"], self.cfg["sigma"]))
        pred = decode_coords(heat, self.net.log_beta)
        loss_coord = F.smooth_l1_loss(pred / self.cfg["size"], coords / self.cfg["size"])
        return loss_heat + self.cfg["w_coord"] * loss_coord

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        return [opt], [torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)]


def faces(cfg, n=16):
    g = torch.Generator().manual_seed(0)
    coords = torch.randint(2, cfg["size"] - 2, (n, cfg["landmarks"], 2), generator=g).float()
    images = gaussian_targets(coords, cfg["size"], 1.0).sum(1, keepdim=True) + 0.1 * torch.randn(n, 1, cfg["size"], cfg["size"], generator=g)
    return DataLoader(TensorDataset(images, coords), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = LandmarkModule(CFG)
    b0 = module.net.log_beta.detach().clone()
    h0 = module.net.heat.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, faces(CFG))
    return {"model": module.net}, {
        "beta_changed": not torch.equal(b0, module.net.log_beta),
        "heat_head_changed": not torch.equal(h0, module.net.heat.weight),
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
