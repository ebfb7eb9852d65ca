import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PrototypeClassifier(pl.LightningModule):
    """Embeds samples and classifies them by similarity to per-class prototypes refreshed on validation data."""

    def __init__(self, in_dim=12, emb_dim=16, num_classes=4, temperature=0.5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, emb_dim))
        self.register_buffer("prototypes", F.normalize(torch.randn(num_classes, emb_dim), dim=-1))
        self.num_classes, self.temperature = num_classes, temperature

    def embed(self, x):
        return F.normalize(self.encoder(x), dim=-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.embed(x) @ self.prototypes.t() / self.temperature
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        emb = self.embed(x)
        protos = F.normalize(torch.stack([emb[y == c].mean(0) for c in range(self.num_classes)]), dim=-1)
        self.prototypes = protos
        acc = ((emb @ protos.t()).argmax(1) == y).float().mean()
        self.log("val_acc", acc)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    y = torch.arange(4).repeat(12)
    x = torch.randn(48, 12, generator=g) + F.one_hot(y, 12).float() * 2
    train_loader = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=8, shuffle=True, generator=g)
    val_loader = DataLoader(TensorDataset(x[32:], y[32:]), batch_size=16)
    model = PrototypeClassifier()
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
