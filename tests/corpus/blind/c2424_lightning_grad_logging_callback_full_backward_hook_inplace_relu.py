import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class PlantDiseaseNet(nn.Module):
    def __init__(self, n_classes=6):
        super().__init__()
        self.stem = conv_bn_relu(3, 8)
        self.layer1 = nn.Sequential(conv_bn_relu(8, 16, 2), conv_bn_relu(16, 16))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(16, n_classes))

    def forward(self, x):
        return self.classifier(self.layer1(self.stem(x)).mean(dim=(2, 3)))


class LayerGradNormLogger(pl.Callback):
    """Logs the norm of the gradient flowing out of every normalization layer (dead-layer monitoring)."""

    def __init__(self):
        self.norms, self.handles = {}, []

    def on_fit_start(self, trainer, pl_module):
        for name, module in pl_module.named_modules():
            if isinstance(module, nn.BatchNorm2d):
                self.handles.append(module.register_full_backward_hook(self._make_hook(name)))

    def _make_hook(self, name):
        def hook(module, grad_input, grad_output):
            self.norms.setdefault(name, []).append(grad_output[0].norm().item())
        return hook

    def on_fit_end(self, trainer, pl_module):
        for h in self.handles:
            h.remove()


class LeafClassifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = PlantDiseaseNet()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y, label_smoothing=0.1)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=1e-3)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)]


def main():
    pl.seed_everything(0)
    data = TensorDataset(torch.rand(16, 3, 12, 12), torch.randint(0, 6, (16,)))
    model, logger_cb = LeafClassifier(), LayerGradNormLogger()
    trainer = pl.Trainer(max_epochs=2, callbacks=[logger_cb], logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=8, shuffle=True))
    return ({"model": model}, {"layers_logged": len(logger_cb.norms)})

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
