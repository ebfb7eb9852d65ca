import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


class CosineHead(nn.Module):
    def __init__(self, dim, n_cls, init_temp=0.07):
        super().__init__()
        self.centers = nn.Parameter(torch.randn(n_cls, dim))
        self.temperature = torch.ones(n_cls, requires_grad=True) * init_temp

    def forward(self, feats):
        cos = F.normalize(feats, dim=1) @ F.normalize(self.centers, dim=1).t()
        return cos / self.temperature.clamp(min=1e-3)


class OpenSetClassifier(pl.LightningModule):
    def __init__(self, n_cls=5, lr=1e-3):
        super().__init__()
        self.backbone = Backbone()
        self.head = CosineHead(16, n_cls)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.head(self.backbone(x)), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([
            {"params": self.backbone.parameters()},
            {"params": [self.head.centers], "lr": 10 * self.lr},
            {"params": [self.head.temperature], "lr": 1e-2, "weight_decay": 0.0},
        ], lr=self.lr)


def main():
    pl.seed_everything(0)
    x, y = torch.randn(24, 12), torch.randint(0, 5, (24,))
    model = OpenSetClassifier()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(x, y), batch_size=8))
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
