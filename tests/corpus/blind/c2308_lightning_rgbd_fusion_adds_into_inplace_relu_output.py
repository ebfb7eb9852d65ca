import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBNReLU(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class GuidedFusion(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.rgb = ConvBNReLU(3, ch)
        self.depth = ConvBNReLU(1, ch)
        self.gate = nn.Conv2d(ch, ch, 1)

    def forward(self, rgb, depth):
        f_rgb = self.rgb(rgb)
        f_depth = self.depth(depth)
        f_rgb += torch.sigmoid(self.gate(f_depth)) * f_depth
        return f_rgb


class RGBDSegmenter(pl.LightningModule):
    def __init__(self, n_cls=3):
        super().__init__()
        self.fusion = GuidedFusion()
        self.classifier = nn.Conv2d(8, n_cls, 1)

    def training_step(self, batch, batch_idx):
        rgb, depth, y = batch
        return F.cross_entropy(self.classifier(self.fusion(rgb, depth)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01, momentum=0.9)


def main():
    pl.seed_everything(0)
    data = TensorDataset(torch.randn(4, 3, 8, 8), torch.randn(4, 1, 8, 8), torch.randint(0, 3, (4, 8, 8)))
    model = RGBDSegmenter()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=2))
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
