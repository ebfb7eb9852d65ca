import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class NoisyConv(nn.Conv2d):
    """Conv with additive weight noise during training, emulating analog crossbar variability."""

    def __init__(self, *args, noise_std=0.02, **kw):
        super().__init__(*args, **kw)
        self.noise_std = noise_std

    def forward(self, x):
        w = self.weight
        if self.training:
            w = w + self.noise_std * torch.randn_like(w)
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


class AnalogCNN(pl.LightningModule):
    def __init__(self, clip=0.15, n_classes=5):
        super().__init__()
        self.conv1 = NoisyConv(1, 8, 3, padding=1)
        self.conv2 = NoisyConv(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, n_classes)
        self.clip = clip
        self._hooks = []

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x)).mean((2, 3))
        return self.fc(x)

    def on_fit_start(self):
        for m in (self.conv1, self.conv2, self.fc):
            self._hooks.append(m.register_forward_hook(self._clip_weights))

    def _clip_weights(self, module, inputs, output):
        with torch.no_grad():
            module.weight.clamp_(-self.clip, self.clip)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=5e-2, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 1, 12, 12, generator=g), torch.randint(0, 5, (16,), generator=g)
    model = AnalogCNN()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True))
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
