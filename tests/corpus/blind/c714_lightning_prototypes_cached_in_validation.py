import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ProtoClassifier(pl.LightningModule):
    """CE head plus a cosine term against class prototypes refreshed on the validation split."""

    def __init__(self, in_dim=16, dim=24, n_classes=4, tau=0.2, lam=0.5, lr=3e-3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.head = nn.Linear(dim, n_classes)
        self.n_classes, self.tau, self.lam, self.lr = n_classes, tau, lam, lr
        self.prototypes = None

    def training_step(self, batch, batch_idx):
        x, y = batch
        z = self.encoder(x)
        loss = F.cross_entropy(self.head(z), y)
        if self.prototypes is not None:
            proto_logits = F.normalize(z, dim=-1) @ self.prototypes.t() / self.tau
            loss = loss + self.lam * F.cross_entropy(proto_logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        z = self.encoder(x)
        self.log("val_acc", (self.head(z).argmax(-1) == y).float().mean())
        self._refresh_prototypes(F.normalize(z, dim=-1), y)

    def _refresh_prototypes(self, z, y, momentum=0.5):
        batch_protos = torch.stack([z[y == c].mean(0) for c in range(self.n_classes)])
        if self.prototypes is not None:
            batch_protos = momentum * self.prototypes + (1 - momentum) * batch_protos
        self.prototypes = F.normalize(batch_protos, dim=-1)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loaders(n=160, in_dim=16, n_classes=4):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % n_classes
    x = torch.randn(n, in_dim, generator=g) + F.one_hot(y, in_dim).float() * 2
    return (DataLoader(TensorDataset(x[:128], y[:128]), batch_size=32, shuffle=True, generator=g),
            DataLoader(TensorDataset(x[128:], y[128:]), batch_size=16))


def main():
    pl.seed_everything(0)
    model = ProtoClassifier()
    train_loader, val_loader = make_loaders()
    trainer = pl.Trainer(max_epochs=2, limit_train_batches=2, logger=False, enable_checkpointing=False)
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
