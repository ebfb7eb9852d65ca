import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class WideBlockNet(nn.Module):
    def __init__(self, n_in=24, hidden=48, n_classes=5):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.1),
                                  nn.Linear(hidden, hidden), nn.LeakyReLU(0.1))
        self.fc = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.fc(self.body(x))


class WeightEMA:
    """EMA of the model weights plus decoupled weight decay applied to the live model (as in MixMatch)."""

    def __init__(self, model, ema_model, alpha=0.99, lr=2e-3, wd=0.02):
        self.alpha, self.wd = alpha, lr * wd
        self.params = list(model.state_dict().values())
        self.ema_params = list(ema_model.state_dict().values())
        for param, ema_param in zip(self.params, self.ema_params):
            ema_param.copy_(param)

    def step(self):
        one_minus_alpha = 1.0 - self.alpha
        for param, ema_param in zip(self.params, self.ema_params):
            if ema_param.dtype == torch.float32:
                ema_param.mul_(self.alpha)
                ema_param.add_(param * one_minus_alpha)
                param.mul_(1 - self.wd)


def mixup(x, y_onehot, alpha=0.75, generator=None):
    lam = torch.distributions.Beta(alpha, alpha).sample().item()
    lam = max(lam, 1 - lam)
    idx = torch.randperm(x.size(0), generator=generator)
    return lam * x + (1 - lam) * x[idx], lam * y_onehot + (1 - lam) * y_onehot[idx]


def make_loader(n=120):
    g = torch.Generator().manual_seed(31)
    x = torch.randn(n, 24, generator=g)
    y = (x[:, :5].argmax(dim=1))
    return DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = WideBlockNet()
    ema_model = copy.deepcopy(model)
    for p in ema_model.parameters():
        p.detach_()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    ema_optimizer = WeightEMA(model, ema_model)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    w0 = model.fc.weight.detach().clone()
    e0 = ema_model.fc.weight.detach().clone()
    g = torch.Generator().manual_seed(1)
    model.train()
    for epoch in range(2):
        for x, y in loader:
            mixed_x, mixed_y = mixup(x, F.one_hot(y, 5).float(), generator=g)
            loss = -(mixed_y * F.log_softmax(model(mixed_x), dim=1)).sum(dim=1).mean()
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            ema_optimizer.step()
    ema_model.eval()
    with torch.no_grad():
        x, y = next(iter(loader))
        ema_acc = (ema_model(x).argmax(1) == y).float().mean().item()
    return ({"model": model},
            {"model_changed": not torch.equal(w0, model.fc.weight),
             "ema_changed": not torch.equal(e0, ema_model.fc.weight),
             "ema_requires_grad": any(p.requires_grad for p in ema_model.parameters()),
             "ema_acc_is_number": isinstance(ema_acc, float)})

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
