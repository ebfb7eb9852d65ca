import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

N_BINS = 4


class SoftArgmax1D(nn.Module):
    def __init__(self, beta=100.0):
        super().__init__()
        self.beta = beta

    def forward(self, logits):
        probs = F.softmax(logits * self.beta, dim=1)
        idx = torch.arange(logits.size(1), dtype=logits.dtype, device=logits.device)
        return (probs * idx).sum(dim=1)


class RoutedRegressor(nn.Module):
    """A classifier picks the regime, a per-regime regression head gives the value."""

    def __init__(self, in_dim=12, hidden=32):
        super().__init__()
        self.classifier = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, N_BINS))
        self.regressor = nn.Linear(in_dim, N_BINS)
        self.soft_argmax = SoftArgmax1D()

    def forward(self, x):
        choice = self.soft_argmax(self.classifier(x))
        values = self.regressor(x)
        index = choice.round().long().clamp(0, N_BINS - 1)
        return values.gather(1, index.unsqueeze(1)).squeeze(1)


def synthetic_regimes(n=64):
    g = torch.Generator().manual_seed(8)
    x = torch.randn(n, 12, generator=g)
    regime = x[:, :N_BINS].argmax(1)
    y = torch.stack([x[:, 4], -x[:, 5], 2 * x[:, 6], x[:, 7] + 1], dim=1).gather(1, regime[:, None]).squeeze(1)
    return TensorDataset(x, y)


def fit(accelerator, model, optimizer, scheduler, loader, epochs=2):
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            with accelerator.accumulate(model):
                loss = F.smooth_l1_loss(model(x), y)
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = RoutedRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=64)
    loader = DataLoader(synthetic_regimes(), batch_size=8, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    clf0 = model.classifier[0].weight.detach().clone()
    reg0 = model.regressor.weight.detach().clone()
    fit(accelerator, model, optimizer, scheduler, loader)
    return {"model": model}, {"classifier_changed": not torch.equal(clf0, model.classifier[0].weight),
                              "regressor_changed": not torch.equal(reg0, model.regressor.weight)}

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
