import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class RecordingProbe:
    """Keeps the outputs of the named submodules from the last forward pass."""

    def __init__(self, module, names):
        self.features = {}
        self.handles = []
        for name, sub in module.named_modules():
            if name in names:
                self.handles.append(sub.register_forward_hook(self._make_hook(name)))

    def _make_hook(self, name):
        def hook(module, inputs, output):
            self.features[name] = output.detach()
        return hook

    def pop(self):
        feats, self.features = self.features, {}
        return feats


class FeatureExtractor(nn.Module):
    """Stand-in for the truncated VGG used by the perceptual loss."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, x):
        return self.block2(self.block1(x))


class PerceptualLoss(nn.Module):
    def __init__(self, layers=("block1", "block2"), weights=(1.0, 0.5)):
        super().__init__()
        self.extractor = FeatureExtractor().eval()
        self.extractor.requires_grad_(False)
        self.layers, self.weights = layers, weights
        self.probe = RecordingProbe(self.extractor, layers)

    def forward(self, fake, real):
        self.extractor(real)
        real_feats = self.probe.pop()
        self.extractor(fake)
        fake_feats = self.probe.pop()
        return sum(w * F.mse_loss(fake_feats[k], real_feats[k]) for k, w in zip(self.layers, self.weights))


class Upsampler(nn.Module):
    def __init__(self, width=16, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1))
        self.tail = nn.Sequential(nn.Conv2d(width, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, x):
        h = self.head(x)
        return self.tail(h + self.body(h))


class SuperResolution(L.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.net = Upsampler()
        self.perceptual = PerceptualLoss()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        lr_img, hr_img = batch
        sr = self.net(lr_img)
        loss = self.perceptual(sr, hr_img)
        self.log("train/perceptual", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        return [opt], [sched]


def main():
    L.seed_everything(0)
    hr = torch.rand(8, 3, 16, 16)
    lr = F.avg_pool2d(hr, 2)
    loader = DataLoader(TensorDataset(lr, hr), batch_size=4)
    model = SuperResolution()
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
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
