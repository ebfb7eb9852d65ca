import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class MultiHeadMLP(nn.Module):
    def __init__(self, n_in=16, hidden=32, n_classes=2, n_tasks=2):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(hidden, n_classes) for _ in range(n_tasks)])

    def forward(self, x, task):
        return self.heads[task](self.trunk(x))


class EWC:
    """Elastic weight consolidation: a diagonal-Fisher quadratic penalty around the previous task's solution."""

    def __init__(self, model, loader, task, n_batches=4):
        self.params = {n: p for n, p in model.trunk.named_parameters()}
        self.anchors = {n: p.detach().clone() for n, p in self.params.items()}
        self.fisher = {n: torch.zeros_like(p) for n, p in self.params.items()}
        model.eval()
        for i, (x, y) in enumerate(loader):
            if i == n_batches:
                break
            model.zero_grad()
            log_probs = F.log_softmax(model(x, task), dim=1)
            F.nll_loss(log_probs, log_probs.argmax(1)).backward()
            for n, p in self.params.items():
                self.fisher[n] += p.grad.detach() ** 2 / n_batches
        model.zero_grad()
        model.train()

    def penalty(self):
        return sum((self.fisher[n] * (p - self.anchors[n]) ** 2).sum() for n, p in self.params.items())


def make_task(seed, n=64, n_in=16):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g)
    w = torch.randn(n_in, generator=g)
    return DataLoader(TensorDataset(x, (x @ w > 0).long()), batch_size=16, shuffle=True)


def train_task(fabric, model, optimizer, loader, task, ewc=None, lam=50.0, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x, task), y)
            if ewc is not None:
                loss = loss + lam * ewc.penalty()
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = MultiHeadMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer = fabric.setup(model, optimizer)
    task_a, task_b = make_task(1), make_task(2)
    train_task(fabric, model, optimizer, task_a, task=0)
    ewc = EWC(model.module, task_a, task=0)
    trunk_a = model.trunk[0].weight.detach().clone()
    head_b0 = model.heads[1].weight.detach().clone()
    train_task(fabric, model, optimizer, task_b, task=1, ewc=ewc)
    return {"model": model.module}, {
        "trunk_changed_on_task_b": not torch.equal(trunk_a, model.trunk[0].weight),
        "head_b_changed": not torch.equal(head_b0, model.heads[1].weight),
        "penalty_active": bool(ewc.penalty() > 0),
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
