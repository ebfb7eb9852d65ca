import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBackbone(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(ch, 2 * ch, 3, padding=1), nn.BatchNorm2d(2 * ch), nn.ReLU(), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.features(x).flatten(1)


class LinearProbe(pl.LightningModule):
    def __init__(self, n_classes=5):
        super().__init__()
        self.backbone = ConvBackbone()
        self.backbone.requires_grad_(False)
        self.probe = nn.Linear(16, n_classes)

    def on_train_epoch_start(self):
        self.backbone.eval()

    def training_step(self, batch, batch_idx):
        images, labels = batch
        with torch.no_grad():
            feats = self.backbone(images)
        loss = F.cross_entropy(self.probe(feats), labels)
        self.log("probe_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        images, labels = batch
        acc = (self.probe(self.backbone(images)).argmax(-1) == labels).float().mean()
        self.log("val_acc", acc)

    def configure_optimizers(self):
        return torch.optim.SGD(self.probe.parameters(), lr=0.1, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(31)
    images, labels = torch.randn(40, 3, 8, 8, generator=g), torch.randint(0, 5, (40,), generator=g)
    train_loader = DataLoader(TensorDataset(images, labels), batch_size=8, shuffle=True, generator=g)
    val_loader = DataLoader(TensorDataset(images[:16], labels[:16]), batch_size=8)
    model = LinearProbe()
    bn_mean0 = model.backbone.features[1].running_mean.clone()
    probe0 = model.probe.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_loader, val_loader)
    return ({"probe": model.probe},
            {"probe_changed": not torch.equal(probe0, model.probe.weight),
             "bn_stats_frozen": torch.equal(bn_mean0, model.backbone.features[1].running_mean)})

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
