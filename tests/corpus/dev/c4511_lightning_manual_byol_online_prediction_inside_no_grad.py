import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

HPARAMS = {"proj_dim": 16, "hidden": 64, "base_tau": 0.99, "lr": 3e-3, "weight_decay": 1.5e-6, "max_steps": 4}


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.Conv2d(8, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.conv(x)


def augment(x, g=None):
    """Random flip + colour jitter + gaussian noise (two calls give two views)."""
    flip = torch.rand(x.shape[0], 1, 1, 1) < 0.5
    x = torch.where(flip, x.flip(-1), x)
    x = x * (1 + 0.2 * torch.randn(x.shape[0], 3, 1, 1))
    return x + 0.05 * torch.randn_like(x)


def byol_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()


class BYOL(pl.LightningModule):
    def __init__(self, hp):
        super().__init__()
        self.hp = hp
        self.automatic_optimization = False
        self.online_encoder = Encoder()
        self.online_projector = mlp(16, hp["hidden"], hp["proj_dim"])
        self.predictor = mlp(hp["proj_dim"], hp["hidden"], hp["proj_dim"])
        self.target_encoder = copy.deepcopy(self.online_encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.online_projector).requires_grad_(False)

    def tau(self):
        k, K = self.global_step, self.hp["max_steps"]
        return 1 - (1 - self.hp["base_tau"]) * (math.cos(math.pi * k / K) + 1) / 2

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        (imgs,) = batch
        v1, v2 = augment(imgs), augment(imgs)
        with torch.no_grad():
            z1_t = self.target_projector(self.target_encoder(v1))
            z2_t = self.target_projector(self.target_encoder(v2))
            p1 = self.predictor(self.online_projector(self.online_encoder(v1)))
            p2 = self.predictor(self.online_projector(self.online_encoder(v2)))
        loss = byol_loss(p1, z2_t) + byol_loss(p2, z1_t)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.update_target()
        self.log("train/byol", loss.item())

    @torch.no_grad()
    def update_target(self):
        tau = self.tau()
        for online, target in ((self.online_encoder, self.target_encoder),
                               (self.online_projector, self.target_projector)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(tau).add_(po, alpha=1 - tau)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.hp["lr"], weight_decay=self.hp["weight_decay"])


def unlabeled_images(n=16):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.rand(n, 3, 16, 16, generator=g)), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = BYOL(HPARAMS)
    enc0 = model.online_encoder.conv[0].weight.detach().clone()
    trainer = pl.Trainer(max_steps=HPARAMS["max_steps"], logger=False, enable_checkpointing=False)
    trainer.fit(model, unlabeled_images())
    return {"model": model}, {"online_encoder_changed": not torch.equal(enc0, model.online_encoder.conv[0].weight)}

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
