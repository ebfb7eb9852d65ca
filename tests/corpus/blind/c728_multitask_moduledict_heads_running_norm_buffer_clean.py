import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RunningNorm(nn.Module):
    """Feature standardization with running statistics (like an observation normalizer in RL)."""

    def __init__(self, dim, momentum=0.1, eps=1e-5):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                self.mean.mul_(1 - self.momentum).add_(self.momentum * x.mean(0))
                self.var.mul_(1 - self.momentum).add_(self.momentum * x.var(0, unbiased=False))
        return (x - self.mean) / torch.sqrt(self.var + self.eps)


class SensorModel(nn.Module):
    def __init__(self, in_dim=10, hidden=32, tasks=None):
        super().__init__()
        tasks = tasks or {"activity": 5, "fall": 2}
        self.norm = RunningNorm(in_dim)
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, n) for name, n in tasks.items()})
        self.register_buffer("task_weights", torch.ones(len(tasks)))

    def forward(self, x):
        h = self.trunk(self.norm(x))
        return {name: head(h) for name, head in self.heads.items()}

    def loss(self, outputs, targets):
        losses = torch.stack([F.cross_entropy(outputs[k], targets[k]) for k in self.heads])
        with torch.no_grad():
            self.task_weights.copy_(losses.detach() / losses.detach().mean())
        return (self.task_weights * losses).sum()


def make_loader(n=128, in_dim=10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, in_dim, generator=g) * 3 + 5
    activity = x[:, :5].argmax(1)
    fall = (x[:, 5] > 5).long()
    return DataLoader(TensorDataset(x, activity, fall), batch_size=32, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, activity, fall in loader:
            optimizer.zero_grad()
            loss = model.loss(model(x), {"activity": activity, "fall": fall})
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = SensorModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    head_before = model.heads["fall"].weight.detach().clone()
    train(model, make_loader(), optimizer)
    in_opt = {id(p) for g in optimizer.param_groups for p in g["params"]}
    return {"model": model}, {
        "heads_in_optimizer": all(id(p) in in_opt for p in model.heads.parameters()),
        "fall_head_changed": not torch.equal(head_before, model.heads["fall"].weight),
        "running_mean_moved": bool(model.norm.mean.abs().sum() > 0),
    }

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
