import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                                      nn.Flatten(), nn.Linear(4 * width, 16), nn.ReLU())

    def forward(self, x):
        return self.features(x)


class BoxPredictor(nn.Module):
    def __init__(self, in_dim=16):
        super().__init__()
        self.cls_weight = None
        self.cls_bias = nn.Parameter(torch.zeros(2))
        self.bbox = nn.Linear(in_dim, 4)

    def forward(self, feats):
        return F.linear(feats, self.cls_weight, self.cls_bias), self.bbox(feats)


def load_pretrained_cls_rows(num_classes=91, in_dim=16, seed=0):
    """Stand-in for rows read out of a converted (float64 numpy) detector checkpoint."""
    return np.random.default_rng(seed).normal(0, 0.1, size=(num_classes, in_dim))


def transplant_classes(predictor, pretrained_rows, keep=(0, 77)):
    rows = torch.from_numpy(pretrained_rows[list(keep)])
    predictor.cls_weight = nn.Parameter(rows).float()
    return predictor


class PhoneDetector(pl.LightningModule):
    def __init__(self, lr=5e-2):
        super().__init__()
        self.backbone = Backbone()
        self.predictor = transplant_classes(BoxPredictor(), load_pretrained_cls_rows())
        self.lr = lr

    def training_step(self, batch, batch_idx):
        img, label, box = batch
        logits, pred_box = self.predictor(self.backbone(img))
        loss = F.cross_entropy(logits, label) + F.smooth_l1_loss(pred_box, box)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    img = torch.rand(16, 3, 8, 8)
    label = (img.mean((1, 2, 3)) > 0.5).long()
    box = torch.rand(16, 4)
    model = PhoneDetector()
    before = model.predictor.cls_weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False).fit(model, DataLoader(TensorDataset(img, label, box), batch_size=4))
    facts = {"cls_weight_changed": not torch.equal(before, model.predictor.cls_weight),
             "cls_weight_is_leaf": model.predictor.cls_weight.is_leaf}
    return {"cls_weight": model.predictor.cls_weight, "backbone": model.backbone}, facts

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
