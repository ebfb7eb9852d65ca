import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FaceBackbone(nn.Module):
    def __init__(self, emb_dim=16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.PReLU(8),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.PReLU(16),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.embedding = nn.Linear(16, emb_dim)
        self.bn = nn.BatchNorm1d(emb_dim)

    def forward(self, x):
        return self.bn(self.embedding(self.features(x)))


class CosineMarginHead(nn.Module):
    """CosFace-style classifier: logits are scaled cosines between embeddings and class centres."""

    def __init__(self, emb_dim, n_classes, scale=16.0, margin=0.2):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, emb_dim))
        nn.init.xavier_uniform_(self.weight)
        self.scale, self.margin = scale, margin

    def forward(self, emb, labels):
        centres = F.normalize(self.weight.data, dim=1)
        cosine = F.linear(F.normalize(emb, dim=1), centres)
        one_hot = F.one_hot(labels, cosine.size(1)).float()
        return self.scale * (cosine - self.margin * one_hot)


class FaceRecognizer(pl.LightningModule):
    def __init__(self, n_classes=6, lr=0.05):
        super().__init__()
        self.backbone = FaceBackbone()
        self.head = CosineMarginHead(16, n_classes)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        images, ids = batch
        logits = self.head(self.backbone(images), ids)
        loss = F.cross_entropy(logits, ids)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, weight_decay=5e-4)
        steps = 2 * math.ceil(24 / 8)
        return [opt], [torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[steps // 2], gamma=0.1)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(24, 3, 12, 12, generator=g)
    ids = torch.arange(24) % 6
    loader = DataLoader(TensorDataset(images, ids), batch_size=8, shuffle=True, generator=g)
    model = FaceRecognizer()
    centres0 = model.head.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"class_centres_changed": not torch.equal(centres0, model.head.weight)}

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
