import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class HeatmapNet(nn.Module):
    def __init__(self, width=8, n_keypoints=2):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.upsampling = nn.Conv2d(width, n_keypoints, 1)

    def forward(self, x):
        return self.upsampling(self.backbone(x))


class BackboneFinetuning(Callback):
    """Keeps the backbone's learning rate at 0 for the first epochs, then ramps it up (no requires_grad toggling,
    so it also works under DDP)."""

    def __init__(self, unfreeze_at_epoch=1, ratio=0.5):
        self.unfreeze_at_epoch, self.ratio = unfreeze_at_epoch, ratio

    def on_train_epoch_start(self, trainer, pl_module):
        optimizer = trainer.optimizers[0]
        assert optimizer.param_groups[0]["name"] == "backbone"
        head_lr = optimizer.param_groups[1]["lr"]
        if trainer.current_epoch < self.unfreeze_at_epoch:
            optimizer.param_groups[0]["lr"] = 0.0
        else:
            optimizer.param_groups[0]["lr"] = head_lr * self.ratio


class PoseModule(pl.LightningModule):
    def __init__(self, lr=5e-2):
        super().__init__()
        self.net = HeatmapNet()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        img, heat = batch
        loss = F.mse_loss(self.net(img), heat)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        groups = [{"params": self.net.backbone.parameters(), "name": "backbone", "lr": 0.0},
                  {"params": self.net.upsampling.parameters(), "name": "upsampling", "lr": self.lr}]
        return torch.optim.SGD(groups, lr=self.lr)


class SnapshotBackbone(Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        pl_module.snapshots.append(pl_module.net.backbone[0].weight.detach().clone())


def main():
    pl.seed_everything(0)
    img = torch.rand(8, 1, 8, 8)
    heat = torch.stack([img[:, 0] > 0.7, img[:, 0] < 0.2], 1).float()
    model = PoseModule()
    model.snapshots = [model.net.backbone[0].weight.detach().clone()]
    trainer = pl.Trainer(max_epochs=2, logger=False, callbacks=[BackboneFinetuning(), SnapshotBackbone()])
    trainer.fit(model, DataLoader(TensorDataset(img, heat), batch_size=4))
    s = model.snapshots
    facts = {"backbone_changed_in_epoch0": not torch.equal(s[0], s[1]),
             "backbone_changed_in_epoch1": not torch.equal(s[1], s[2])}
    return {"net": model.net}, facts

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
