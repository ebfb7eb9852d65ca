import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MultiHeadNet(nn.Module):
    """Shared trunk with one classification head per task (task-incremental learning)."""

    def __init__(self, in_dim=10, dim=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())
        self.heads = nn.ModuleDict()
        self.dim = dim

    def add_task(self, task, n_classes):
        self.heads[task] = nn.Linear(self.dim, n_classes)
        return self.heads[task]

    def forward(self, x, task):
        return self.heads[task](self.trunk(x))


def train_task(model, task, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x, task), y).backward()
            optimizer.step()


def make_task(seed, n_classes):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(48, 10, generator=g)
    y = (x[:, seed % 10] > 0).long() * (n_classes - 1)
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = MultiHeadNet()
    model.add_task("task_a", 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train_task(model, "task_a", make_task(1, 2), optimizer)

    new_head = model.add_task("task_b", 3)
    optimizer.add_param_group({"params": new_head.parameters(), "lr": 0.1})
    head_before = new_head.weight.detach().clone()
    train_task(model, "task_b", make_task(2, 3), optimizer)
    return {"model": model}, {"task_b_head_changed": not torch.equal(head_before, new_head.weight)}

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
