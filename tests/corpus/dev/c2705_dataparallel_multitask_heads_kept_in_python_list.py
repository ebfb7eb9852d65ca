import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SharedTrunk(nn.Module):
    def __init__(self, in_dim=12, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class MultiTaskNet(nn.Module):
    def __init__(self, task_dims=(3, 2, 1), hidden=16):
        super().__init__()
        self.trunk = SharedTrunk(hidden=hidden)
        self.heads = [nn.Linear(hidden, d) for d in task_dims]
        self.task_dims = task_dims

    def forward(self, x):
        h = self.trunk(x)
        return [head(h) for head in self.heads]


def multitask_loss(outputs, targets):
    cls_a, cls_b, reg = outputs
    ya, yb, yr = targets
    return F.cross_entropy(cls_a, ya) + F.cross_entropy(cls_b, yb) + F.mse_loss(reg.squeeze(1), yr)


def build_optimizer(model, lr=5e-2):
    base = model.module if isinstance(model, nn.DataParallel) else model
    return torch.optim.SGD(base.parameters(), lr=lr, momentum=0.9)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, ya, yb, yr in loader:
            optimizer.zero_grad()
            loss = multitask_loss(model(x), (ya, yb, yr))
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(32, 12)
    ya, yb = torch.randint(0, 3, (32,)), torch.randint(0, 2, (32,))
    yr = x[:, 0] * 0.5
    loader = DataLoader(TensorDataset(x, ya, yb, yr), batch_size=8, shuffle=True)
    model = nn.DataParallel(MultiTaskNet())
    optimizer = build_optimizer(model)
    head_before = model.module.heads[0].weight.detach().clone()
    trunk_before = model.module.trunk.net[0].weight.detach().clone()
    train(model, loader, optimizer)
    facts = {"head_changed": not torch.equal(head_before, model.module.heads[0].weight),
             "trunk_changed": not torch.equal(trunk_before, model.module.trunk.net[0].weight)}
    return {"model": model.module}, facts

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
