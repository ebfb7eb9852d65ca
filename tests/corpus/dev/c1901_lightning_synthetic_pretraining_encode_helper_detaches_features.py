import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBackbone(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(width, width, 3, padding=1, stride=2), nn.ReLU())

    def forward(self, x):
        return self.block(self.stem(x))


class DenseHead(nn.Module):
    """Per-pixel surface normals and depth, supervised on rendered (synthetic) frames only."""

    def __init__(self, width=16):
        super().__init__()
        self.normals = nn.Conv2d(width, 3, 1)
        self.depth = nn.Conv2d(width, 1, 1)

    def forward(self, feats):
        return F.normalize(self.normals(feats), dim=1), self.depth(feats)


class DomainCritic(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(width, 8, 3, padding=1), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 1))

    def forward(self, feats):
        return self.net(feats)


class SyntheticPretrainer(pl.LightningModule):
    def __init__(self, adv_weight=0.0, lr=1e-3):
        super().__init__()
        self.backbone = ConvBackbone()
        self.head = DenseHead()
        self.critic = DomainCritic()
        self.adv_weight = adv_weight
        self.lr = lr

    def encode(self, images, synthetic):
        feats = self.backbone(images)
        if synthetic:
            # the critic must not push the backbone towards rendering artefacts
            feats = feats.detach()
        return feats

    def task_loss(self, feats, normals, depth):
        pred_n, pred_d = self.head(feats)
        return (1 - (pred_n * normals).sum(1)).mean() + F.l1_loss(pred_d, depth)

    def training_step(self, batch, batch_idx):
        syn, normals, depth, real = batch
        f_syn = self.encode(syn, synthetic=True)
        task = self.task_loss(f_syn, normals, depth)
        loss = task
        if self.adv_weight > 0:
            f_real = self.encode(real, synthetic=False)
            logits = torch.cat([self.critic(f_syn), self.critic(f_real)])
            labels = torch.cat([torch.ones(len(syn), 1), torch.zeros(len(real), 1)])
            loss = loss + self.adv_weight * F.binary_cross_entropy_with_logits(logits, labels)
        self.log("train/task", task)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def make_loader(n=16):
    g = torch.Generator().manual_seed(0)
    syn = torch.randn(n, 3, 8, 8, generator=g)
    normals = F.normalize(torch.randn(n, 3, 4, 4, generator=g), dim=1)
    depth = torch.rand(n, 1, 4, 4, generator=g)
    real = torch.randn(n, 3, 8, 8, generator=g)
    return DataLoader(TensorDataset(syn, normals, depth, real), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    loader = make_loader()
    model = SyntheticPretrainer(adv_weight=0.0)  # stage 1: geometry only, no domain critic
    w0 = model.backbone.stem[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"backbone_changed": not torch.equal(w0, model.backbone.stem[0].weight)}

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
