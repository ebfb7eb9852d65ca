import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, 2)
        self.stages = nn.ModuleList([conv_bn(8, 16), conv_bn(16, 24)])

    def forward(self, x):
        feats = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class SegModel(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.backbone = Backbone()
        self.decode_head = nn.Sequential(conv_bn(24, 16), nn.Conv2d(16, cfg["classes"], 1))
        self.auxiliary_heads = nn.ModuleList([nn.Sequential(conv_bn(16, 8), nn.Conv2d(8, cfg["classes"], 1))])
        self.cfg = cfg

    def freeze_stem(self):
        self.backbone.stem.requires_grad_(False)
        self.backbone.stem.eval()

    def on_train_epoch_start(self):
        self.backbone.stem.eval()

    def forward(self, img):
        feats = self.backbone(img)
        size = img.shape[-2:]
        main = F.interpolate(self.decode_head(feats[-1]), size, mode="bilinear", align_corners=False)
        aux = [F.interpolate(h(f), size, mode="bilinear", align_corners=False) for h, f in zip(self.auxiliary_heads, feats[:-1])]
        return main, aux

    def training_step(self, batch, batch_idx):
        img, mask = batch
        main, aux = self(img)
        loss = F.cross_entropy(main, mask, ignore_index=255)
        loss = loss + sum(self.cfg["aux_weight"] * F.cross_entropy(a, mask, ignore_index=255) for a in aux)
        self.log("train/loss", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        img, mask = batch
        pred = self(img)[0].argmax(1)
        inter = ((pred == 1) & (mask == 1)).sum().item()
        union = ((pred == 1) | (mask == 1)).sum().item()
        self.log("val/iou_fg", inter / max(union, 1))

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=self.cfg["lr"], momentum=0.9, weight_decay=5e-4)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=20, power=0.9)}


def cityscapes_like(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    img = torch.randn(n, 3, size, size, generator=g)
    mask = (img[:, 0] > 0.2).long()
    ds = TensorDataset(img, mask)
    return DataLoader(ds, batch_size=4, shuffle=True, generator=g), DataLoader(ds, batch_size=4)


def main():
    pl.seed_everything(0)
    model = SegModel({"classes": 2, "aux_weight": 0.4, "lr": 0.01})
    model.freeze_stem()
    stem0 = model.backbone.stem[0].weight.detach().clone()
    aux0 = model.auxiliary_heads[0][1].weight.detach().clone()
    train_dl, val_dl = cityscapes_like()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_dl, val_dl)
    return {"model": model}, {
        "aux_head_changed": not torch.equal(aux0, model.auxiliary_heads[0][1].weight),
        "stem_unchanged": torch.equal(stem0, model.backbone.stem[0].weight),
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
