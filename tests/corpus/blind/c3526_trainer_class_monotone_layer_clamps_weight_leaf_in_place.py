import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class NonNegativeLinear(nn.Module):
    """Linear layer with non-negative weights, so the output is monotone in every input."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(d_out, d_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        w = self.weight.clamp_(min=0.0)
        return F.linear(x, w, self.bias)


class MonotonePricingModel(nn.Module):
    def __init__(self, n_monotone=3, n_free=4, hidden=16):
        super().__init__()
        self.mono = nn.Sequential(NonNegativeLinear(n_monotone, hidden), nn.Softplus(), NonNegativeLinear(hidden, 1))
        self.free = nn.Sequential(nn.Linear(n_free, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x_mono, x_free):
        return (self.mono(x_mono) + self.free(x_free)).squeeze(-1)


class PricingTrainer:
    def __init__(self, model, lr=1e-2):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=5, gamma=0.5)

    def train_epoch(self, loader):
        self.model.train()
        total = 0.0
        for x_mono, x_free, y in loader:
            self.optimizer.zero_grad()
            loss = F.mse_loss(self.model(x_mono, x_free), y)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        self.scheduler.step()
        return total / len(loader)


def make_loader(n=48, bs=12):
    g = torch.Generator().manual_seed(33)
    x_mono = torch.rand(n, 3, generator=g)
    x_free = torch.randn(n, 4, generator=g)
    y = x_mono.sum(1) + 0.3 * x_free[:, 0]
    return DataLoader(TensorDataset(x_mono, x_free, y), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    model = MonotonePricingModel()
    trainer = PricingTrainer(model)
    loader = make_loader()
    for _ in range(2):
        trainer.train_epoch(loader)
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
