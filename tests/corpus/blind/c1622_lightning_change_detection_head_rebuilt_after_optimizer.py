import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SiameseEncoder(nn.Module):
    """Pretrained (seasonal-contrast style) encoder shared by both acquisition dates; kept fixed."""

    def __init__(self, bands=4, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(bands, width, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(width, width, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class HeadSnapshot(pl.Callback):
    def on_train_start(self, trainer, pl_module):
        self.head = pl_module.classifier
        self.weight0 = pl_module.classifier.weight.detach().clone()


class ChangeDetector(pl.LightningModule):
    def __init__(self, num_classes=3, width=8, lr=1e-2):
        super().__init__()
        self.encoder = SiameseEncoder(width=width)
        self.fuse = nn.Conv2d(2 * width, width, 1)
        self.classifier = nn.Conv2d(width, 1, 1)  # binary change head of the pretraining checkpoint
        self.width, self.lr, self.num_classes = width, lr, num_classes

    def on_fit_start(self):
        if self.classifier.out_channels != self.num_classes:
            self.classifier = nn.Conv2d(self.width, self.num_classes, 1)

    def forward(self, before, after):
        h = torch.cat([self.encoder(before), self.encoder(after)], dim=1)
        return self.classifier(F.relu(self.fuse(h)))

    def training_step(self, batch, batch_idx):
        before, after, change = batch
        loss = F.cross_entropy(self(before, after), change)
        self.log("train/ce", loss)
        return loss

    def configure_optimizers(self):
        params = set(self.parameters()).difference(self.encoder.parameters())
        return torch.optim.SGD(params, lr=self.lr, momentum=0.9)


def main():
    pl.seed_everything(8)
    g = torch.Generator().manual_seed(8)
    before = torch.randn(24, 4, 8, 8, generator=g)
    after = before.clone()
    after[:12, :, 2:6, 2:6] += 2.0
    change = (after - before).abs().sum(1).gt(0.5).long() + (after[:, 0] > 2.5).long()
    loader = DataLoader(TensorDataset(before, after, change), batch_size=6, shuffle=True, generator=g)
    model = ChangeDetector()
    snapshot = HeadSnapshot()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[snapshot]).fit(model, loader)
    opt = model.optimizers()
    return ({"model": model},
            {"head_changed": not torch.equal(snapshot.weight0, model.classifier.weight),
             "head_in_optimizer": any(p is model.classifier.weight for grp in opt.param_groups for p in grp["params"]),
             "fuse_in_optimizer": any(p is model.fuse.weight for grp in opt.param_groups for p in grp["params"])})

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
