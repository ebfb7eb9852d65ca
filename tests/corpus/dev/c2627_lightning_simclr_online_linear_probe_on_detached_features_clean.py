import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


def nt_xent(z1, z2, temperature=0.2):
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    n = z1.shape[0]
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


class Backbone(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                 nn.Conv2d(16, dim, 3, 2, 1), nn.BatchNorm2d(dim), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out_dim = dim

    def forward(self, x):
        return self.net(x)


class SimCLR(L.LightningModule):
    def __init__(self, num_classes=5, proj_dim=16, lr=1e-3):
        super().__init__()
        self.backbone = Backbone()
        self.projector = nn.Sequential(nn.Linear(self.backbone.out_dim, 32), nn.ReLU(), nn.Linear(32, proj_dim))
        self.classifier = nn.Linear(self.backbone.out_dim, num_classes)
        self.lr = lr

    def augment(self, x):
        noise = 0.1 * torch.randn_like(x)
        flip = torch.rand(x.shape[0], 1, 1, 1) < 0.5
        return torch.where(flip, x.flip(-1), x) + noise

    def training_step(self, batch, batch_idx):
        x, y = batch
        feats1 = self.backbone(self.augment(x))
        feats2 = self.backbone(self.augment(x))
        ssl_loss = nt_xent(self.projector(feats1), self.projector(feats2))
        logits = self.classifier(feats1.detach())
        class_loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(-1) == y).float().mean()
        self.log_dict({"ssl_loss": ssl_loss, "online_acc": acc})
        return ssl_loss + class_loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10),
                                                   "interval": "step"}}


def main():
    L.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(8, 3, 16, 16, generator=g), torch.randint(0, 5, (8,), generator=g))
    model = SimCLR()
    before = model.backbone.net[0].weight.detach().clone()
    L.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(ds, batch_size=4))
    facts = {"backbone_changed": not torch.equal(before, model.backbone.net[0].weight)}
    return {"backbone": model.backbone, "projector": model.projector, "classifier": model.classifier}, facts

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
