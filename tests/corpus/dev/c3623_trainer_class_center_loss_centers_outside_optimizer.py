import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CenterLoss(nn.Module):
    def __init__(self, num_classes=4, feat_dim=2):
        super().__init__()
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(self, feats, labels):
        return (feats - self.centers[labels]).pow(2).sum(-1).clamp(1e-12, 1e12).mean()


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=10, feat_dim=2, num_classes=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 32), nn.PReLU(), nn.Linear(32, feat_dim))
        self.classifier = nn.Linear(feat_dim, num_classes)

    def forward(self, x):
        feats = self.backbone(x)
        return feats, self.classifier(feats)


class CenterLossTrainer:
    def __init__(self, model, num_classes, weight_cent=0.5, lr=0.05):
        self.model = model
        self.center_loss = CenterLoss(num_classes, feat_dim=2)
        self.weight_cent = weight_cent
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.5)

    def train_epoch(self, loader):
        self.model.train()
        for x, y in loader:
            feats, logits = self.model(x)
            loss = F.cross_entropy(logits, y) + self.weight_cent * self.center_loss(feats, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.scheduler.step()


def main():
    torch.manual_seed(0)
    y = torch.randint(0, 4, (64,))
    x = torch.randn(64, 10) + F.one_hot(y, 10).float() * 2
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    trainer = CenterLossTrainer(EmbeddingNet(), num_classes=4)
    c0 = trainer.center_loss.centers.detach().clone()
    b0 = trainer.model.backbone[0].weight.detach().clone()
    for _ in range(2):
        trainer.train_epoch(loader)
    return {"center_loss": trainer.center_loss, "model": trainer.model}, {
        "centers_changed": not torch.equal(c0, trainer.center_loss.centers),
        "backbone_changed": not torch.equal(b0, trainer.model.backbone[0].weight),
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
