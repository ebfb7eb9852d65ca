import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Embedder(nn.Module):
    def __init__(self, in_dim=16, dim=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


@torch.inference_mode()
def class_prototypes(embedder, support_loader, n_classes):
    sums, counts = None, torch.zeros(n_classes)
    for x, y in support_loader:
        z = embedder(x)
        sums = torch.zeros(n_classes, z.size(1)) if sums is None else sums
        sums.index_add_(0, y, z)
        counts += torch.bincount(y, minlength=n_classes)
    return sums / counts.clamp_min(1).unsqueeze(1)


class PrototypicalClassifier(pl.LightningModule):
    """Queries are classified by distance to per-class prototypes, refreshed from a support set every epoch."""

    def __init__(self, support_loader, n_classes=4):
        super().__init__()
        self.embedder = Embedder()
        self.support_loader, self.n_classes = support_loader, n_classes
        self.prototypes = None

    def on_train_epoch_start(self):
        self.prototypes = class_prototypes(self.embedder, self.support_loader, self.n_classes)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = -torch.cdist(self.embedder(x), self.prototypes).pow(2)
        loss = F.cross_entropy(logits, y)
        self.log("proto_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.embedder.parameters(), lr=3e-3)


def main():
    pl.seed_everything(71)
    g = torch.Generator().manual_seed(71)
    centers = torch.randn(4, 16, generator=g) * 2
    y = torch.randint(0, 4, (80,), generator=g)
    x = centers[y] + torch.randn(80, 16, generator=g)
    support = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=16)
    queries = DataLoader(TensorDataset(x[32:], y[32:]), batch_size=12, shuffle=True, generator=g)
    model = PrototypicalClassifier(support)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, queries)
    return {"embedder": model.embedder}

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
