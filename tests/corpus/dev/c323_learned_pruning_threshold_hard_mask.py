import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ThresholdPrunedLinear(nn.Module):
    """Linear layer whose small-magnitude weights are masked out by a learned threshold."""

    def __init__(self, in_f, out_f, init_threshold=0.05):
        super().__init__()
        self.linear = nn.Linear(in_f, out_f)
        self.threshold = nn.Parameter(torch.tensor(init_threshold))

    def mask(self):
        return (self.linear.weight.abs() > self.threshold).float()

    def forward(self, x):
        return F.linear(x, self.linear.weight * self.mask(), self.linear.bias)

    def sparsity(self):
        return 1.0 - self.mask().mean()


class PrunedMLP(nn.Module):
    def __init__(self, in_dim=16, hidden=32, n_classes=3):
        super().__init__()
        self.fc1 = ThresholdPrunedLinear(in_dim, hidden)
        self.fc2 = ThresholdPrunedLinear(hidden, n_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def sparsity_penalty(self):
        # reward sparsity: pushes the thresholds up
        return -(self.fc1.sparsity() + self.fc2.sparsity())


def train(model, loader, optimizer, lam=0.1, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y) + lam * model.sparsity_penalty()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 16, generator=g)
    y = torch.randint(0, 3, (64,), generator=g)
    model = PrunedMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    t_before = model.fc1.threshold.detach().clone()
    train(model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g), optimizer)
    facts = {"threshold_changed": not torch.equal(t_before, model.fc1.threshold.detach())}
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
