import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"eps": 0.05, "lr": 0.05, "epochs": 2, "adv_ratio": 0.5, "batch": 8}


class SpeechCommandCNN(nn.Module):
    def __init__(self, n_mels=16, num_classes=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class FGSMTrainer:
    """Goodfellow et al. adversarial training: mix clean and FGSM examples in every batch."""

    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9)

    def fgsm(self, spectrograms, labels):
        x = torch.from_numpy(spectrograms).requires_grad_(True).float()
        loss = F.cross_entropy(self.model(x), labels)
        loss.backward()
        x_adv = x + self.cfg["eps"] * x.grad.sign()
        self.model.zero_grad()
        return x_adv.detach()

    def train_epoch(self, specs, labels):
        for i in range(0, len(specs), self.cfg["batch"]):
            xb, yb = specs[i:i + self.cfg["batch"]], labels[i:i + self.cfg["batch"]]
            x_adv = self.fgsm(xb, yb)
            x_clean = torch.from_numpy(xb).float()
            loss = (1 - self.cfg["adv_ratio"]) * F.cross_entropy(self.model(x_clean), yb) \
                + self.cfg["adv_ratio"] * F.cross_entropy(self.model(x_adv), yb)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    def fit(self, specs, labels):
        for epoch in range(self.cfg["epochs"]):
            self.train_epoch(specs, labels)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    specs = rng.standard_normal((16, 1, 16, 16))           # float64 log-mel spectrograms from the feature pipeline
    labels = torch.from_numpy(rng.integers(0, 4, 16)).long()
    model = SpeechCommandCNN()
    FGSMTrainer(model, CFG).fit(specs, labels)
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
