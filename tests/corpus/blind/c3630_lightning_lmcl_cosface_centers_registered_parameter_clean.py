import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class LMCLLoss(nn.Module):
    """Large margin cosine loss (CosFace); the class centers are the classifier weights."""

    def __init__(self, num_classes=4, feat_dim=2, s=7.0, m=0.2):
        super().__init__()
        self.s, self.m = s, m
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(self, feat, label):
        logits = F.normalize(feat, dim=1) @ F.normalize(self.centers, dim=1).t()
        margin_logits = self.s * (logits - self.m * F.one_hot(label, logits.shape[1]))
        return margin_logits, logits


class FeatureNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.PReLU(), nn.Linear(32, 2))

    def forward(self, x):
        return self.net(x)


class CosFaceModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.features = FeatureNet()
        self.lmcl = LMCLLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        margin_logits, _ = self.lmcl(self.features(x), y)
        return F.cross_entropy(margin_logits, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)


def main():
    pl.seed_everything(0)
    y = torch.randint(0, 4, (64,))
    x = torch.randn(64, 10) + F.one_hot(y, 10).float() * 2
    model = CosFaceModule()
    c0 = model.lmcl.centers.detach().clone()
    pl.Trainer(max_epochs=2, logger=False).fit(model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True))
    return {"lmcl": model.lmcl, "features": model.features}, {
        "centers_changed": not torch.equal(c0, model.lmcl.centers),
        "centers_in_optimizer": any(model.lmcl.centers is p for g in model.optimizers().param_groups for p in g["params"]),
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
