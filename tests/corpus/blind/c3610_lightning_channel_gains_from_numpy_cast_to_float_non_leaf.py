import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def load_sensor_gains(n_channels=4):
    """Per-channel calibration gains measured on the device (float64, as numpy returns them)."""
    return np.linspace(0.8, 1.2, n_channels)


class SpectralUnet(nn.Module):
    def __init__(self, ch=4):
        super().__init__()
        self.down = nn.Conv2d(ch, 16, 3, 2, 1)
        self.up = nn.ConvTranspose2d(16, ch, 4, 2, 1)

    def forward(self, x):
        return self.up(F.relu(self.down(x)))


class CalibratedRestorer(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = SpectralUnet()
        self.log_gain = torch.tensor(np.log(load_sensor_gains()), requires_grad=True).float()

    def forward(self, raw):
        gains = self.log_gain.exp().view(1, -1, 1, 1)
        return self.net(raw * gains)

    def training_step(self, batch, batch_idx):
        raw, target = batch
        return F.l1_loss(self(raw), target)

    def configure_optimizers(self):
        return torch.optim.Adam([
            {"params": self.net.parameters(), "lr": 1e-3},
            {"params": [self.log_gain], "lr": 1e-2},
        ])


def main():
    pl.seed_everything(0)
    target = torch.rand(16, 4, 8, 8)
    raw = target / torch.tensor([0.9, 1.0, 1.1, 1.0]).view(1, -1, 1, 1)
    loader = DataLoader(TensorDataset(raw, target), batch_size=4, shuffle=True)
    model = CalibratedRestorer()
    pl.Trainer(max_epochs=1, logger=False).fit(model, loader)
    return {"net": model.net, "log_gain": model.log_gain}

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
