import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

MEAN, STD = 0.1307, 0.3081


class SmallConvNet(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class AdversarialTraining(pl.LightningModule):
    """FGSM adversarial training on raw [0, 1] images; the network expects normalized input."""

    def __init__(self, eps=0.1, lr=1e-3):
        super().__init__()
        self.net = SmallConvNet()
        self.eps = eps
        self.lr = lr

    @staticmethod
    def normalize(x):
        return (x - MEAN) / STD

    def forward(self, x):
        return self.net(self.normalize(x))

    def fgsm(self, x, y):
        x_adv = x.detach().clone().requires_grad_(True)
        x_adv = self.normalize(x_adv)
        loss = F.cross_entropy(self.net(x_adv), y)
        self.net.zero_grad()
        loss.backward()
        return (x + self.eps * x_adv.grad.sign()).clamp(0, 1).detach()

    def training_step(self, batch, batch_idx):
        x, y = batch
        x_adv = self.fgsm(x, y)
        loss = 0.5 * F.cross_entropy(self(x), y) + 0.5 * F.cross_entropy(self(x_adv), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=32, bs=8):
    g = torch.Generator().manual_seed(25)
    x = torch.rand(n, 1, 12, 12, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def main():
    pl.seed_everything(0)
    model = AdversarialTraining()
    pl.Trainer(max_epochs=1, logger=False).fit(model, make_loader())
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
