import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class IResNetLite(nn.Module):
    def __init__(self, emb_dim=16):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.PReLU(8),
                                  nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.PReLU(16),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, emb_dim)

    def forward(self, x):
        return self.fc(self.body(x))


class ArcMarginHeader(nn.Module):
    """Base header for the angular-margin family (ArcFace / CosFace / SphereFace)."""

    def __init__(self, in_features, out_features, s=16.0, m=0.3):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.s, self.m = s, m

    def normalize(self, w):
        return F.normalize(w, dim=1)

    def forward(self, emb, labels):
        self.linear.weight = nn.Parameter(self.normalize(self.linear.weight))
        logits = self.linear(F.normalize(emb)).clamp(-1 + 1e-6, 1 - 1e-6)
        theta = torch.acos(logits)
        target = torch.cos(theta + self.m)
        one_hot = F.one_hot(labels, logits.size(1)).bool()
        return self.s * torch.where(one_hot, target, logits)


class FaceEmbeddingModule(pl.LightningModule):
    def __init__(self, n_ids=6):
        super().__init__()
        self.backbone = IResNetLite()
        self.header = ArcMarginHeader(16, n_ids)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.header(self.backbone(x), y), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 3))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def main():
    pl.seed_everything(0)
    x = torch.randn(24, 3, 12, 12)
    y = torch.arange(24) % 6
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    model = FaceEmbeddingModule()
    optimized_weight = model.header.linear.weight
    w0 = optimized_weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model, "optimized_header_weight": optimized_weight},
            {"optimized_header_weight_changed": not torch.equal(w0, optimized_weight),
             "header_weight_is_optimized_one": model.header.linear.weight is optimized_weight})

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
