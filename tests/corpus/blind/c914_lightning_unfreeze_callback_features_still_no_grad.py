import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class BackboneUnfreeze(pl.Callback):
    def __init__(self, unfreeze_at_epoch=1):
        self.unfreeze_at_epoch = unfreeze_at_epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.unfreeze_at_epoch:
            pl_module.backbone.requires_grad_(True)


class TransferClassifier(pl.LightningModule):
    def __init__(self, n_classes=5, lr=1e-3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(32, n_classes)
        self.backbone.requires_grad_(False)
        self.lr = lr

    def extract_features(self, img):
        with torch.no_grad():  # backbone starts frozen: skip its activations
            return self.backbone(img).flatten(1)

    def training_step(self, batch, batch_idx):
        img, y = batch
        loss = F.cross_entropy(self.head(self.extract_features(img)), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([
            {"params": self.backbone.parameters(), "lr": self.lr * 0.1},
            {"params": self.head.parameters(), "lr": self.lr},
        ])


def make_loader(n=48, size=12, n_classes=5):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    img = torch.randn(n, 3, size, size, generator=g) + y.view(-1, 1, 1, 1) * 0.2
    return DataLoader(TensorDataset(img, y), batch_size=12, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = TransferClassifier()
    before = model.backbone[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, callbacks=[BackboneUnfreeze(1)], logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    facts = {
        "backbone_requires_grad": model.backbone[0].weight.requires_grad,
        "backbone_changed": not torch.equal(before, model.backbone[0].weight),
    }
    return {"model": model}, facts

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
