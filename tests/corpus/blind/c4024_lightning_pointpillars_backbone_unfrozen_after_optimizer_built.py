import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class PillarBackbone(nn.Module):
    def __init__(self, in_ch=4, ch=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(in_ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class UnfreezeBackbone(pl.Callback):
    def __init__(self, at_epoch):
        self.at_epoch = at_epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.at_epoch:
            pl_module.backbone.requires_grad_(True)


class PillarDetector(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.backbone = PillarBackbone()
        self.cls_head = nn.Conv2d(16, cfg["n_classes"], 1)
        self.box_head = nn.Conv2d(16, 4, 1)
        self.cfg = cfg
        if cfg["freeze_backbone_epochs"] > 0:
            self.backbone.requires_grad_(False)

    def training_step(self, batch, batch_idx):
        pillars, cls_map, box_map = batch
        feats = self.backbone(pillars)
        loss = F.cross_entropy(self.cls_head(feats), cls_map) + F.smooth_l1_loss(self.box_head(feats), box_map)
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.cfg["lr"])


def bev_loader(n=16, hw=6):
    g = torch.Generator().manual_seed(0)
    pillars = torch.randn(n, 4, hw, hw, generator=g)
    cls_map = (pillars[:, 0] > 0.5).long()
    box_map = torch.randn(n, 4, hw, hw, generator=g) * 0.1
    return DataLoader(TensorDataset(pillars, cls_map, box_map), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"n_classes": 2, "lr": 3e-3, "freeze_backbone_epochs": 1}
    model = PillarDetector(cfg)
    bb0 = model.backbone.net[0].weight.detach().clone()
    head0 = model.cls_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False,
                         callbacks=[UnfreezeBackbone(at_epoch=cfg["freeze_backbone_epochs"])])
    trainer.fit(model, bev_loader())
    return {"model": model}, {
        "backbone_changed": not torch.equal(bb0, model.backbone.net[0].weight),
        "head_changed": not torch.equal(head0, model.cls_head.weight),
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
