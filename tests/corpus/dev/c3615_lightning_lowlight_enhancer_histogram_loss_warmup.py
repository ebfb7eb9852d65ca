import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def soft_histogram(img, bins, sigma=0.02):
    centers = torch.linspace(0.0, 1.0, bins, device=img.device)
    weights = torch.exp(-0.5 * ((img.reshape(img.shape[0], -1, 1) - centers) / sigma) ** 2)
    hist = weights.sum(1)
    return hist / hist.sum(-1, keepdim=True)


class HistogramLoss(nn.Module):
    def __init__(self, bins=16):
        super().__init__()
        self.bins = bins

    def _hist(self, img):
        hists = [torch.histc(im, bins=self.bins, min=0.0, max=1.0) for im in img]
        hists = torch.stack(hists)
        return hists / hists.sum(-1, keepdim=True)

    def forward(self, pred, target):
        return F.l1_loss(self._hist(pred), self._hist(target))


class IlluminationNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 3, 3, 1, 1))

    def forward(self, x):
        return torch.sigmoid(self.body(x) + x)


class LowLightEnhancer(pl.LightningModule):
    def __init__(self, warmup_epochs=1):
        super().__init__()
        self.net = IlluminationNet()
        self.hist_loss = HistogramLoss()
        self.warmup_epochs = warmup_epochs

    def training_step(self, batch, batch_idx):
        dark, bright = batch
        pred = self.net(dark)
        if self.current_epoch < self.warmup_epochs:
            loss = self.hist_loss(pred, bright)
        else:
            loss = F.l1_loss(pred, bright) + 0.1 * self.hist_loss(pred, bright)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        dark, bright = batch
        self.log("val/hist_kl", F.l1_loss(soft_histogram(self.net(dark), 16), soft_histogram(bright, 16)))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-4)


def main():
    pl.seed_everything(0)
    bright = torch.rand(16, 3, 8, 8)
    dark = bright * 0.2
    loader = DataLoader(TensorDataset(dark, bright), batch_size=4, shuffle=True)
    model = LowLightEnhancer()
    trainer = pl.Trainer(max_epochs=2, logger=False)
    trainer.fit(model, loader, loader)
    return {"net": model.net}

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
