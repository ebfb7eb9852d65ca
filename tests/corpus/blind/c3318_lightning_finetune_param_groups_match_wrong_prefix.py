import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBackbone(nn.Module):
    def __init__(self, width=16, d_out=32):
        super().__init__()
        self.stages = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU())
        self.proj = nn.Linear(2 * width, d_out)

    def forward(self, x):
        return self.proj(self.stages(x).mean((2, 3)))


class FineTuner(pl.LightningModule):
    """Discriminative learning rates: small for the pretrained backbone, large for the new head."""

    def __init__(self, n_cls=6, head_lr=1e-2, backbone_lr=1e-3):
        super().__init__()
        self.backbone = ConvBackbone()
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(32, n_cls))
        self.head_lr, self.backbone_lr = head_lr, backbone_lr

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=0.05)
        self.log("train_loss", loss)
        return loss

    def param_groups(self):
        backbone = [p for n, p in self.named_parameters() if n.startswith("encoder.")]
        head = [p for n, p in self.named_parameters() if n.startswith("head.")]
        return [{"params": backbone, "lr": self.backbone_lr, "name": "backbone"},
                {"params": head, "lr": self.head_lr, "name": "head"}]

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.param_groups(), weight_decay=0.01)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[1], gamma=0.3)
        return [opt], [sched]


def labelled_images(n=36):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 6, (n,), generator=g)
    x = torch.rand(n, 3, 8, 8, generator=g) + y[:, None, None, None] * 0.1
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = FineTuner()
    b0 = model.backbone.proj.weight.detach().clone()
    h0 = model.head[1].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, labelled_images())
    facts = {"backbone_changed": not torch.equal(b0, model.backbone.proj.weight),
             "head_changed": not torch.equal(h0, model.head[1].weight)}
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
