import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ProtoClassifier(pl.LightningModule):
    """Embedding net + class prototypes; prototypes are refreshed from the validation pass each epoch."""

    def __init__(self, in_dim=20, emb_dim=16, n_classes=4, temperature=0.5):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, emb_dim))
        self.n_classes, self.temperature = n_classes, temperature
        self.prototypes = None

    def forward(self, x):
        return F.normalize(self.embed(x), dim=-1)

    def logits(self, emb):
        if self.prototypes is None:
            return emb.new_zeros(emb.shape[0], self.n_classes)
        return emb @ self.prototypes.t() / self.temperature

    def training_step(self, batch, batch_idx):
        x, y = batch
        emb = self(x)
        loss = F.cross_entropy(self.logits(emb), y) + 0.1 * emb.pow(2).sum(-1).sub(1).abs().mean()
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        emb = self(x)
        acc = (self.logits(emb).argmax(-1) == y).float().mean()
        self.log("val_acc", acc)
        # the validation split is small and balanced: refresh the class prototypes from it
        self.prototypes = F.normalize(torch.stack([emb[y == c].mean(0) for c in range(self.n_classes)]), dim=-1)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def loaders():
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 20, generator=g) * 2
    y = torch.arange(4).repeat(16)
    x = centers[y] + torch.randn(64, 20, generator=g)
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=16, shuffle=True, generator=g)
    val = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=16)
    return train, val


def main():
    pl.seed_everything(0)
    model = ProtoClassifier()
    train, val = loaders()
    trainer = pl.Trainer(max_epochs=2, enable_progress_bar=False, logger=False)
    trainer.fit(model, train_dataloaders=train, val_dataloaders=val)
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
