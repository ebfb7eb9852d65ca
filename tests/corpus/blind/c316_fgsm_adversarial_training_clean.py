import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SmallCNN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class AdversarialTrainer:
    def __init__(self, model, optimizer, eps=0.03, adv_weight=0.5):
        self.model, self.optimizer = model, optimizer
        self.eps, self.adv_weight = eps, adv_weight

    def fgsm(self, x, y):
        x_adv = x.clone().detach().requires_grad_(True)
        loss = F.cross_entropy(self.model(x_adv), y)
        (grad,) = torch.autograd.grad(loss, x_adv)
        return (x_adv + self.eps * grad.sign()).clamp(0.0, 1.0).detach()

    def train_epoch(self, loader):
        self.model.train()
        total = 0.0
        for x, y in loader:
            x_adv = self.fgsm(x, y)
            self.optimizer.zero_grad()
            loss = (1 - self.adv_weight) * F.cross_entropy(self.model(x), y) \
                + self.adv_weight * F.cross_entropy(self.model(x_adv), y)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(loader)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(48, 1, 12, 12, generator=g)
    y = torch.randint(0, 3, (48,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = SmallCNN()
    trainer = AdversarialTrainer(model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    conv_before = model.conv[0].weight.detach().clone()
    for epoch in range(2):
        trainer.train_epoch(loader)
    facts = {"conv_changed": not torch.equal(conv_before, model.conv[0].weight.detach())}
    return {"model": model}, facts

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
