import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_points": 32, "classes": 3, "lr": 2e-3, "epochs": 2}


class TNet(nn.Module):
    """Predicts a 3x3 alignment matrix from the raw cloud (PointNet input transform)."""

    def __init__(self):
        super().__init__()
        self.point_mlp = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 64), nn.ReLU())
        self.fc = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 9))
        nn.init.zeros_(self.fc[2].weight)
        nn.init.zeros_(self.fc[2].bias)

    def forward(self, pts):
        feat = self.point_mlp(pts).max(dim=1).values
        return self.fc(feat).view(-1, 3, 3) + torch.eye(3)


def apply_transform(pts, trans):
    """Rotate every cloud by its predicted alignment (B, N, 3) x (B, 3, 3)."""
    return torch.bmm(pts, trans.detach())


class PointNetCls(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tnet = TNet()
        self.point_mlp = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, cfg["classes"]))

    def forward(self, pts):
        aligned = apply_transform(pts, self.tnet(pts))
        return self.classifier(self.point_mlp(aligned).max(dim=1).values)

    def training_step(self, batch, batch_idx):
        pts, label = batch
        loss = F.cross_entropy(self(pts), label)
        self.log("train_ce", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def shapes_loader(cfg, n=48):
    g = torch.Generator().manual_seed(0)
    label = torch.arange(n) % cfg["classes"]
    pts = torch.randn(n, cfg["n_points"], 3, generator=g)
    pts = pts * torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.5, 0.5], [0.3, 0.3, 2.0]])[label][:, None]
    return DataLoader(TensorDataset(pts, label), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = PointNetCls(CFG)
    t0 = model.tnet.fc[2].weight.detach().clone()
    c0 = model.classifier[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, shapes_loader(CFG))
    return {"model": model}, {"tnet_changed": not torch.equal(t0, model.tnet.fc[2].weight),
                              "classifier_changed": not torch.equal(c0, model.classifier[0].weight)}

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
