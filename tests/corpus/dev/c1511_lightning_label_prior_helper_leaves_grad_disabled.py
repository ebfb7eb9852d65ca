import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def estimate_label_prior(model, loader, n_classes):
    """Average predicted class distribution on a held-out calibration loader."""
    torch.set_grad_enabled(False)
    was_training = model.training
    model.eval()
    totals = torch.zeros(n_classes)
    for x, _ in loader:
        totals += F.softmax(model(x), dim=-1).sum(0)
    model.train(was_training)
    return totals / totals.sum()


class TabularNet(nn.Module):
    def __init__(self, in_dim=12, n_classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, n_classes))

    def forward(self, x):
        return self.net(x)


class LogitAdjustedClassifier(pl.LightningModule):
    """Long-tailed classification with logit adjustment by the (re-estimated) label prior."""

    def __init__(self, calib_loader, n_classes=4, tau=1.0):
        super().__init__()
        self.model = TabularNet(n_classes=n_classes)
        self.calib_loader, self.n_classes, self.tau = calib_loader, n_classes, tau
        self.register_buffer("log_prior", torch.full((n_classes,), -torch.log(torch.tensor(float(n_classes)))))

    def on_train_epoch_start(self):
        prior = estimate_label_prior(self.model, self.calib_loader, self.n_classes)
        self.log_prior = prior.clamp_min(1e-6).log()

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model(x) + self.tau * self.log_prior
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=3e-3, weight_decay=1e-4)


def main():
    pl.seed_everything(5)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(80, 12, generator=g)
    y = torch.multinomial(torch.tensor([0.55, 0.25, 0.15, 0.05]), 80, replacement=True, generator=g)
    train_loader = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16, shuffle=True, generator=g)
    calib_loader = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=16)
    model = LogitAdjustedClassifier(calib_loader)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_loader)
    return {"model": model.model}

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
