import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def gaussian_derivative_kernels(scales, angles, size=5):
    r = torch.arange(size, dtype=torch.float32) - size // 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    kernels = []
    for s, a in zip(scales, angles):
        u = xx * torch.cos(a) + yy * torch.sin(a)
        g = torch.exp(-(xx ** 2 + yy ** 2) / (2 * s ** 2))
        kernels.append(-u / s ** 2 * g)
    return torch.stack(kernels).unsqueeze(1)


class ParameterizedReceptiveFields(nn.Module):
    """Conv filters generated from learnable scales and orientations."""

    def __init__(self, n_fields=4):
        super().__init__()
        self.log_scales = nn.Parameter(torch.zeros(n_fields))
        self.angles = nn.Parameter(torch.linspace(0, 3.0, n_fields))
        self.weights = gaussian_derivative_kernels(self.log_scales.exp(), self.angles)

    def forward(self, x):
        return F.conv2d(x, self.weights, padding=2)


class EdgeClassifier(pl.LightningModule):
    def __init__(self, lr=5e-2):
        super().__init__()
        self.fields = ParameterizedReceptiveFields()
        self.head = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.head(self.fields(x)), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    x = torch.rand(16, 1, 10, 10)
    y = (x[:, :, :, :5].mean((1, 2, 3)) > x[:, :, :, 5:].mean((1, 2, 3))).long()
    model = EdgeClassifier()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(x, y), batch_size=4))
    return {"fields": model.fields, "head": model.head}

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
