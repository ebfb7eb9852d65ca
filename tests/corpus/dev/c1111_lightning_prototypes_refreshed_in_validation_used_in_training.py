import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_dim=12, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


class PrototypeClassifier(pl.LightningModule):
    """Classifies by distance to per-class prototypes, refreshed from the validation set each epoch."""

    def __init__(self, n_classes=4, dim=16):
        super().__init__()
        self.encoder = Encoder(dim=dim)
        self.linear_head = nn.Linear(dim, n_classes)
        self.register_buffer("prototypes", torch.zeros(n_classes, dim))

    def training_step(self, batch, batch_idx):
        x, y = batch
        z = self.encoder(x)
        proto_logits = -torch.cdist(z, self.prototypes)
        loss = F.cross_entropy(self.linear_head(z), y) + 0.5 * F.cross_entropy(proto_logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch  # the support set fits in one batch
        z = self.encoder(x)
        self.prototypes = torch.stack([z[y == c].mean(dim=0) for c in range(self.prototypes.size(0))])
        acc = (torch.cdist(z, self.prototypes).argmin(dim=1) == y).float().mean()
        self.log("val_proto_acc", acc)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def make_loaders():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 12, generator=g)
    y = torch.arange(96) % 4
    x[:, 0] += y.float()
    train = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16, shuffle=True, generator=g)
    val = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=32)
    return train, val


def main():
    pl.seed_everything(0)
    model = PrototypeClassifier()
    train_loader, val_loader = make_loaders()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, train_loader, val_loader)
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
