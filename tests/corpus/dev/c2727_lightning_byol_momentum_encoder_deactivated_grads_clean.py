import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def deactivate_requires_grad(params):
    for p in params:
        p.requires_grad = False


@torch.no_grad()
def update_momentum(online, target, m):
    for po, pt in zip(online.parameters(), target.parameters()):
        pt.data = pt.data * m + po.data * (1.0 - m)


def mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, o))


class BYOL(pl.LightningModule):
    def __init__(self, lr=5e-2, m=0.99):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(20, 24), nn.ReLU())
        self.projection_head = mlp(24, 16, 8)
        self.prediction_head = mlp(8, 16, 8)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum.parameters())
        deactivate_requires_grad(self.projection_head_momentum.parameters())
        self.lr, self.m = lr, m

    def forward(self, x):
        return self.prediction_head(self.projection_head(self.backbone(x)))

    def forward_momentum(self, x):
        z = self.projection_head_momentum(self.backbone_momentum(x))
        return z.detach()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        update_momentum(self.backbone, self.backbone_momentum, self.m)
        update_momentum(self.projection_head, self.projection_head_momentum, self.m)
        x0, x1 = x + 0.1 * torch.randn_like(x), x + 0.1 * torch.randn_like(x)
        p0, p1 = self(x0), self(x1)
        z0, z1 = self.forward_momentum(x0), self.forward_momentum(x1)
        loss = 0.5 * (2 - 2 * F.cosine_similarity(p0, z1).mean()) + 0.5 * (2 - 2 * F.cosine_similarity(p1, z0).mean())
        self.log("byol_loss", loss.item())
        return loss

    def configure_optimizers(self):
        params = list(self.backbone.parameters()) + list(self.projection_head.parameters()) \
            + list(self.prediction_head.parameters())
        return torch.optim.SGD(params, lr=self.lr, momentum=0.9)


def main():
    pl.seed_everything(0)
    model = BYOL()
    before = model.backbone[0].weight.detach().clone()
    tgt_before = model.backbone_momentum[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(torch.randn(32, 20)), batch_size=8))
    facts = {"backbone_changed": not torch.equal(before, model.backbone[0].weight),
             "momentum_backbone_changed": not torch.equal(tgt_before, model.backbone_momentum[0].weight)}
    return {"backbone": model.backbone, "prediction_head": model.prediction_head}, facts

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
