import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class SmallCNN(nn.Module):
    def __init__(self, n_classes=3, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU())
        self.classifier = nn.Linear(2 * width, n_classes)

    def forward(self, x):
        fmap = self.features(x)
        return self.classifier(fmap.mean(dim=(2, 3))), fmap


class CamLoggingClassifier(pl.LightningModule):
    """Logs how concentrated the Grad-CAM of the last feature map is, from the training backward itself."""

    def __init__(self, lr=3e-3):
        super().__init__()
        self.model = SmallCNN()
        self.lr = lr
        self._fmap = None
        self.cam_peaks = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits, fmap = self.model(x)
        fmap.retain_grad()
        self._fmap = fmap
        loss = F.cross_entropy(logits, y)
        self.log("train/ce", loss)
        return loss

    def on_after_backward(self):
        grads = self._fmap.grad
        weights = grads.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * self._fmap.detach()).sum(1))
        self.cam_peaks.append(float(cam.flatten(1).max(1).values.mean()))
        self._fmap = None

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


def make_loader(n=24):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=g)
    y = torch.arange(n) % 3
    x[torch.arange(n), 0, 2 * y, 2 * y] += 3.0
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = CamLoggingClassifier()
    conv_before = module.model.features[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, make_loader())
    facts = {"features_changed": not torch.equal(conv_before, module.model.features[0].weight),
             "cam_logged_every_step": len(module.cam_peaks) == 6}
    return {"model": module.model}, facts

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
