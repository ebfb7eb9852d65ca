import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Backbone(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.stem = conv_bn(3, width)
        self.stage1 = conv_bn(width, width, stride=2)
        self.stage2 = conv_bn(width, 2 * width, stride=2)

    def forward(self, x):
        return self.stage2(self.stage1(self.stem(x))).mean(dim=(2, 3))


class TransferClassifier(pl.LightningModule):
    def __init__(self, n_classes=4, lr=3e-3):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(16, n_classes))
        self.lr = lr
        self.backbone.requires_grad_(False)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=self.lr, momentum=0.9, nesterov=True)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)]


class GradualUnfreeze(pl.Callback):
    """Train the head alone for `unfreeze_at` epochs, then fine-tune the backbone too."""

    def __init__(self, unfreeze_at=1):
        self.unfreeze_at = unfreeze_at

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.unfreeze_at:
            pl_module.backbone.requires_grad_(True)
            pl_module.backbone.train()


def make_loader(n=24):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = (x[:, 0].mean(dim=(1, 2)) > 0).long() * 2 + (x[:, 2, :4].mean(dim=(1, 2)) > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = TransferClassifier()
    stem_before = module.backbone.stem[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, callbacks=[GradualUnfreeze(1)])
    trainer.fit(module, make_loader())
    facts = {"backbone_changed": not torch.equal(stem_before, module.backbone.stem[0].weight),
             "backbone_requires_grad": module.backbone.stem[0].weight.requires_grad}
    return {"model": module}, facts

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
