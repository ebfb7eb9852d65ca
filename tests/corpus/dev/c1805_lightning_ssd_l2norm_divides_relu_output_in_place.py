import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class L2Norm(nn.Module):
    def __init__(self, channels, scale=20.0, eps=1e-10):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), scale))
        self.eps = eps

    def forward(self, x):
        norm = x.pow(2).sum(dim=1, keepdim=True).sqrt() + self.eps
        x /= norm
        return self.weight.view(1, -1, 1, 1) * x


class TinySSD(pl.LightningModule):
    def __init__(self, n_classes=4, n_anchors=2, loc_weight=1.0):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.l2norm = L2Norm(16)
        self.cls_head = nn.Conv2d(16, n_anchors * n_classes, 3, padding=1)
        self.loc_head = nn.Conv2d(16, n_anchors * 4, 3, padding=1)
        self.n_classes, self.loc_weight = n_classes, loc_weight

    def forward(self, images):
        feats = self.l2norm(self.backbone(images))
        b = images.size(0)
        cls = self.cls_head(feats).permute(0, 2, 3, 1).reshape(b, -1, self.n_classes)
        loc = self.loc_head(feats).permute(0, 2, 3, 1).reshape(b, -1, 4)
        return cls, loc

    def training_step(self, batch, batch_idx):
        images, labels, boxes = batch
        cls, loc = self(images)
        cls_loss = F.cross_entropy(cls.reshape(-1, self.n_classes), labels.reshape(-1))
        pos = labels > 0
        loc_loss = F.smooth_l1_loss(loc[pos], boxes[pos]) if pos.any() else loc.sum() * 0
        loss = cls_loss + self.loc_weight * loc_loss
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.training_step(batch, batch_idx)
        self.log("val/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-3, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(16, 3, 8, 8, generator=g)
    labels = torch.randint(0, 4, (16, 128), generator=g)
    boxes = torch.randn(16, 128, 4, generator=g)
    loader = DataLoader(TensorDataset(images, labels, boxes), batch_size=8, shuffle=True, generator=g)
    model = TinySSD()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
