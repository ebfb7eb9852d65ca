import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class TabularEncoder(nn.Module):
    def __init__(self, n_features=12, hidden=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
        )

    def forward(self, x):
        return self.net(x)


class ChurnClassifier(pl.LightningModule):
    """Binary churn model; every step funnels through one helper that logs and returns metrics."""

    def __init__(self, n_features=12, hidden=32, lr=3e-3, pos_weight=2.0):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = TabularEncoder(n_features, hidden)
        self.head = nn.Linear(hidden, 1)
        self.lr = lr
        self.register_buffer("pos_weight", torch.tensor([pos_weight]))

    def forward(self, x):
        return self.head(self.encoder(x)).squeeze(-1)

    def _step_metrics(self, stage, loss, logits, y):
        preds = (logits > 0).float()
        metrics = {
            "loss": loss,
            "acc": (preds == y).float().mean(),
            "pos_rate": preds.mean(),
        }
        # keep the logger from holding on to autograd graphs
        metrics = {k: v.detach() for k, v in metrics.items()}
        for k, v in metrics.items():
            self.log(f"{stage}_{k}", v, prog_bar=(k == "loss"))
        return metrics

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight)
        return self._step_metrics("train", loss, logits, y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight)
        return self._step_metrics("val", loss, logits, y)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        return [opt], [sched]


def make_loaders(n=160, n_features=12):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, n_features, generator=g)
    w = torch.randn(n_features, generator=g)
    y = (x @ w + 0.3 * torch.randn(n, generator=g) > 0.5).float()
    train = DataLoader(TensorDataset(x[:128], y[:128]), batch_size=32, shuffle=True, generator=g)
    val = DataLoader(TensorDataset(x[128:], y[128:]), batch_size=32)
    return train, val


def main():
    pl.seed_everything(0)
    model = ChurnClassifier()
    train_loader, val_loader = make_loaders()
    trainer = pl.Trainer(max_epochs=2, limit_train_batches=3, logger=False, enable_checkpointing=False)
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
