import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class InfoNCE(nn.Module):
    """Symmetric InfoNCE with a learnable inverse temperature, clamped like CLIP's logit scale."""

    def __init__(self, init_temperature=0.07, max_scale=100.0):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))
        self.max_scale = max_scale

    def current_scale(self):
        return float(np.clip(np.exp(self.log_scale.item()), 1.0, self.max_scale))

    def forward(self, a, b):
        a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
        logits = self.current_scale() * a @ b.t()
        target = torch.arange(a.shape[0])
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


class Tower(nn.Module):
    def __init__(self, d_in, d_out=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, d_out))

    def forward(self, x):
        return self.net(x)


class GeoMatcher(pl.LightningModule):
    def __init__(self, lr=3e-3):
        super().__init__()
        self.ground = Tower(12)
        self.aerial = Tower(20)
        self.criterion = InfoNCE()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        ground, aerial = batch
        loss = self.criterion(self.ground(ground), self.aerial(aerial))
        self.log_dict({"loss": loss, "scale": self.criterion.current_scale()})
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.0)
        return [opt], [{"scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10), "interval": "step"}]


def make_loader(n=48, bs=12):
    g = torch.Generator().manual_seed(22)
    z = torch.randn(n, 6, generator=g)
    ground = torch.cat([z, torch.randn(n, 6, generator=g) * 0.1], 1)
    aerial = torch.cat([z, z, torch.randn(n, 8, generator=g) * 0.1], 1)
    return DataLoader(TensorDataset(ground, aerial), batch_size=bs, shuffle=True, drop_last=True)


def main():
    pl.seed_everything(0)
    model = GeoMatcher()
    s0 = float(model.criterion.log_scale)
    g0 = model.ground.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False).fit(model, make_loader())
    return {"ground": model.ground, "criterion": model.criterion}, {
        "scale_changed": float(model.criterion.log_scale) != s0,
        "ground_tower_changed": not torch.equal(g0, model.ground.net[0].weight),
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
