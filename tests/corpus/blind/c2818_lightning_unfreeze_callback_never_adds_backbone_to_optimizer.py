import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.features(x)


class TransferClassifier(pl.LightningModule):
    def __init__(self, n_classes=4, lr=1e-2):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(8, n_classes))
        self.lr = lr

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        trainable = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.Adam(trainable, lr=self.lr)


class FreezeThenUnfreeze(pl.Callback):
    """Train only the head for the first epochs, then fine-tune the backbone too."""

    def __init__(self, unfreeze_at_epoch=1, train_bn=True):
        self.unfreeze_at_epoch = unfreeze_at_epoch
        self.train_bn = train_bn

    @staticmethod
    def set_trainable(module, flag, train_bn):
        for m in module.modules():
            is_bn = isinstance(m, nn.BatchNorm2d)
            for p in m.parameters(recurse=False):
                p.requires_grad = flag or (is_bn and train_bn)

    def setup(self, trainer, pl_module, stage):
        self.set_trainable(pl_module.backbone, False, train_bn=False)

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.unfreeze_at_epoch:
            self.set_trainable(pl_module.backbone, True, self.train_bn)
            pl_module.print(f"epoch {trainer.current_epoch}: backbone unfrozen")


def make_loader(n=32):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 3, 6, 6, generator=g)
    y = x.mean(dim=(2, 3)).argmax(dim=1) + (x[:, 0, 0, 0] > 0.5).long()
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = TransferClassifier()
    conv_before = module.backbone.features[0].weight.detach().clone()
    head_before = module.head[1].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, logger=False, callbacks=[FreezeThenUnfreeze(unfreeze_at_epoch=1)])
    trainer.fit(module, make_loader())
    facts = {"backbone_conv_changed": not torch.equal(conv_before, module.backbone.features[0].weight),
             "head_changed": not torch.equal(head_before, module.head[1].weight),
             "backbone_requires_grad": module.backbone.features[0].weight.requires_grad}
    return {"backbone": module.backbone}, facts

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
