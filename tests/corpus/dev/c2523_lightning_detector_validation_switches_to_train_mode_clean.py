import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class EllipseHead(nn.Module):
    """Predicts an objectness map and 5 ellipse parameters (cx, cy, a, b, theta) per cell."""

    def __init__(self, ch=16):
        super().__init__()
        self.obj = nn.Conv2d(ch, 1, 1)
        self.reg = nn.Conv2d(ch, 5, 1)

    def forward(self, feats):
        return self.obj(feats), self.reg(feats)


class CraterDetector(pl.LightningModule):
    def __init__(self, width=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU())
        self.head = EllipseHead(width)

    def forward(self, images, targets=None):
        obj, reg = self.head(self.backbone(images))
        if self.training and targets is not None:
            obj_t, reg_t = targets
            loss_obj = F.binary_cross_entropy_with_logits(obj, obj_t)
            loss_reg = (F.smooth_l1_loss(reg, reg_t, reduction="none") * obj_t).sum() / obj_t.sum().clamp(min=1)
            return {"loss_obj": loss_obj, "loss_reg": loss_reg}
        return torch.sigmoid(obj), reg

    def training_step(self, batch, batch_idx):
        images, obj_t, reg_t = batch
        losses = self(images, (obj_t, reg_t))
        loss = sum(losses.values())
        self.log_dict({k: v.item() for k, v in losses.items()})
        return loss

    def validation_step(self, batch, batch_idx):
        images, obj_t, reg_t = batch
        self.train(True)
        losses = self(images, (obj_t, reg_t))
        self.train(False)
        self.log("val_loss", sum(losses.values()))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.9)}


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(12, 1, 16, 16, generator=g)
    obj_t = (torch.rand(12, 1, 8, 8, generator=g) > 0.85).float()
    reg_t = torch.randn(12, 5, 8, 8, generator=g)
    ds = TensorDataset(images, obj_t, reg_t)
    model = CraterDetector()
    before = model.head.reg.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(ds, batch_size=4, shuffle=True), DataLoader(ds, batch_size=6))
    changed = not torch.equal(before, model.head.reg.weight)
    return {"backbone": model.backbone, "head": model.head}, {"regression_head_changed": changed}

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
