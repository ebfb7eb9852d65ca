import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mlp(d_in, hidden, d_out):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class Backbone(nn.Module):
    def __init__(self, width=16, d_out=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU())
        self.fc = nn.Linear(width, d_out)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


class BYOL(pl.LightningModule):
    def __init__(self, tau=0.99, lr=0.05):
        super().__init__()
        self.online = nn.ModuleDict({"backbone": Backbone(), "projector": mlp(32, 64, 16)})
        self.predictor = mlp(16, 64, 16)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)
        self.tau, self.lr = tau, lr

    @staticmethod
    def augment(x):
        flip = torch.rand(x.size(0), 1, 1, 1) < 0.5
        x = torch.where(flip, x.flip(-1), x)
        return x + 0.1 * torch.randn_like(x)

    def regression_loss(self, p, z):
        return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = self.augment(x), self.augment(x)
        p1 = self.predictor(self.online["projector"](self.online["backbone"](v1)))
        p2 = self.predictor(self.online["projector"](self.online["backbone"](v2)))
        with torch.no_grad():
            z1 = self.target["projector"](self.target["backbone"](v1))
            z2 = self.target["projector"](self.target["backbone"](v2))
        loss = self.regression_loss(p1, z2) + self.regression_loss(p2, z1)
        self.log("byol_loss", loss)
        return loss

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        for t, o in zip(self.target.parameters(), self.online.parameters()):
            t.mul_(self.tau).add_(o.detach(), alpha=1 - self.tau)

    def configure_optimizers(self):
        params = list(self.online.parameters()) + list(self.predictor.parameters())
        return torch.optim.SGD(params, lr=self.lr, momentum=0.9)


def unlabeled_images(n=32):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.rand(n, 3, 8, 8, generator=g)), batch_size=8, shuffle=True)


def main():
    pl.seed_everything(0)
    model = BYOL()
    t0 = model.target["backbone"].fc.weight.detach().clone()
    o0 = model.online["backbone"].fc.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, unlabeled_images())
    facts = {"online_changed": not torch.equal(o0, model.online["backbone"].fc.weight),
             "target_tracked_online": not torch.equal(t0, model.target["backbone"].fc.weight)}
    return {"online": model.online, "predictor": model.predictor}, facts

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
