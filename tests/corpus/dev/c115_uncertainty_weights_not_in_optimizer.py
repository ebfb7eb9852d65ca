import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MultiTaskNet(nn.Module):
    def __init__(self, in_dim=10, hidden=24, n_classes=3):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.cls_head = nn.Linear(hidden, n_classes)
        self.reg_head = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.shared(x)
        return self.cls_head(h), self.reg_head(h).squeeze(-1)


class UncertaintyWeightedLoss:
    """Kendall et al. 2018: learn one log-variance per task."""

    def __init__(self, n_tasks=2):
        self.log_vars = torch.zeros(n_tasks, requires_grad=True)

    def __call__(self, task_losses):
        total = 0.0
        for i, loss in enumerate(task_losses):
            total = total + torch.exp(-self.log_vars[i]) * loss + self.log_vars[i]
        return total


def train(model, criterion, loader, optimizer, epochs=3):
    for _ in range(epochs):
        for x, y_cls, y_reg in loader:
            logits, reg = model(x)
            loss = criterion([F.cross_entropy(logits, y_cls), F.mse_loss(reg, y_reg)])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    n = 48
    data = TensorDataset(torch.randn(n, 10), torch.randint(0, 3, (n,)), 5 * torch.randn(n))
    loader = DataLoader(data, batch_size=16, shuffle=True)
    model = MultiTaskNet()
    criterion = UncertaintyWeightedLoss(n_tasks=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    log_vars_before = criterion.log_vars.detach().clone()
    train(model, criterion, loader, optimizer)
    facts = {"log_vars_changed": not torch.equal(log_vars_before, criterion.log_vars.detach())}
    return {"model": model, "log_vars": criterion.log_vars}, facts

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
