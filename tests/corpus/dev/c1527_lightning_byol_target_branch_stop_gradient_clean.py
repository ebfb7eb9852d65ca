import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class Encoder(nn.Module):
    def __init__(self, in_dim=20, rep_dim=16, proj_dim=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, rep_dim))
        self.projector = mlp(rep_dim, 32, proj_dim)

    def forward(self, x):
        return self.projector(self.backbone(x))


def regression_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()


def two_views(x):
    return x + 0.1 * torch.randn_like(x), x * (torch.rand_like(x) > 0.1)


class BYOL(pl.LightningModule):
    def __init__(self, momentum=0.9):
        super().__init__()
        self.online = Encoder()
        self.predictor = mlp(8, 32, 8)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)
        self.momentum = momentum

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = two_views(x)
        p1, p2 = self.predictor(self.online(v1)), self.predictor(self.online(v2))
        with torch.no_grad():
            z1, z2 = self.target(v1), self.target(v2)
        loss = regression_loss(p1, z2.detach()) + regression_loss(p2, z1.detach())
        self.log("byol_loss", loss)
        return loss

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        for po, pt in zip(self.online.parameters(), self.target.parameters()):
            pt.mul_(self.momentum).add_(po, alpha=1 - self.momentum)

    def configure_optimizers(self):
        return torch.optim.SGD(list(self.online.parameters()) + list(self.predictor.parameters()), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(12)
    g = torch.Generator().manual_seed(12)
    loader = DataLoader(TensorDataset(torch.randn(64, 20, generator=g)), batch_size=16, shuffle=True, generator=g)
    model = BYOL()
    target0 = model.target.backbone[0].weight.detach().clone()
    online0 = model.online.backbone[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"online": model.online, "predictor": model.predictor}, {
        "online_changed": not torch.equal(online0, model.online.backbone[0].weight),
        "target_changed": not torch.equal(target0, model.target.backbone[0].weight),
        "target_has_grad": any(p.grad is not None for p in model.target.parameters())}

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
