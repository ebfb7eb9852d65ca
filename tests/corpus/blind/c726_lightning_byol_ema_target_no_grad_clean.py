import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class BYOL(pl.LightningModule):
    def __init__(self, in_dim=24, feat=32, proj=16, base_momentum=0.99, lr=3e-3):
        super().__init__()
        self.online_encoder = mlp(in_dim, 48, feat)
        self.online_projector = mlp(feat, 32, proj)
        self.predictor = mlp(proj, 32, proj)
        self.target_encoder = copy.deepcopy(self.online_encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.online_projector).requires_grad_(False)
        self.base_momentum, self.lr = base_momentum, lr

    @staticmethod
    def augment(x):
        mask = (torch.rand_like(x) > 0.15).float()
        return x * mask + 0.1 * torch.randn_like(x)

    @staticmethod
    def regression_loss(p, z):
        return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = self.augment(x), self.augment(x)
        p1 = self.predictor(self.online_projector(self.online_encoder(v1)))
        p2 = self.predictor(self.online_projector(self.online_encoder(v2)))
        with torch.no_grad():
            z1 = self.target_projector(self.target_encoder(v1))
            z2 = self.target_projector(self.target_encoder(v2))
        loss = self.regression_loss(p1, z2) + self.regression_loss(p2, z1)
        self.log("byol_loss", loss)
        return loss

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        m = self.base_momentum
        for online, target in ((self.online_encoder, self.target_encoder),
                               (self.online_projector, self.target_projector)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(m).add_(po.detach(), alpha=1 - m)

    def configure_optimizers(self):
        params = [*self.online_encoder.parameters(), *self.online_projector.parameters(), *self.predictor.parameters()]
        return torch.optim.AdamW(params, lr=self.lr, weight_decay=1e-4)


def main():
    pl.seed_everything(0)
    data = torch.randn(128, 24)
    model = BYOL()
    target_before = model.target_encoder[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(data), batch_size=32, shuffle=True, drop_last=True))
    return {"model": model}, {
        "target_changed": not torch.equal(target_before, model.target_encoder[0].weight),
        "target_requires_grad": any(p.requires_grad for p in model.target_encoder.parameters()),
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
