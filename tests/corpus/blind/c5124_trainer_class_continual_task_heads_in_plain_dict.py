import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 16, "hidden": 32, "tasks": {"digits": 4, "letters": 3}, "lr": 5e-3, "epochs": 2, "ewc_lambda": 10.0}


class MultiHeadNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(cfg["in_dim"], cfg["hidden"]), nn.ReLU(),
                                   nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU())
        self.heads = {}

    def add_task(self, name, n_classes):
        self.heads[name] = nn.Linear(self.trunk[-2].out_features, n_classes)

    def forward(self, x, task):
        return self.heads[task](self.trunk(x))


class ContinualTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.anchors, self.fisher, self.head_init = {}, {}, {}

    def make_optimizer(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.cfg["lr"])

    def ewc_penalty(self):
        if not self.anchors:
            return torch.zeros(())
        return sum((self.fisher[n] * (p - self.anchors[n]) ** 2).sum() for n, p in self.model.trunk.named_parameters())

    def consolidate(self, loader, task):
        self.fisher = {n: torch.zeros_like(p) for n, p in self.model.trunk.named_parameters()}
        for x, y in loader:
            self.model.zero_grad()
            F.cross_entropy(self.model(x, task), y).backward()
            for n, p in self.model.trunk.named_parameters():
                self.fisher[n] += p.grad.detach() ** 2 / len(loader)
        self.anchors = {n: p.detach().clone() for n, p in self.model.trunk.named_parameters()}

    def learn_task(self, task, n_classes, loader):
        self.model.add_task(task, n_classes)
        self.head_init[task] = self.model.heads[task].weight.detach().clone()
        optimizer = self.make_optimizer()
        for _ in range(self.cfg["epochs"]):
            for x, y in loader:
                loss = F.cross_entropy(self.model(x, task), y) + self.cfg["ewc_lambda"] * self.ewc_penalty()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        self.consolidate(loader, task)


def task_loader(n_classes, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(48, CFG["in_dim"], generator=g)
    return DataLoader(TensorDataset(x, x[:, seed:seed + n_classes].argmax(-1)), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = MultiHeadNet(CFG)
    trainer = ContinualTrainer(model, CFG)
    trunk0 = model.trunk[0].weight.detach().clone()
    for seed, (task, n) in enumerate(CFG["tasks"].items()):
        trainer.learn_task(task, n, task_loader(n, seed))
    return {"model": model}, {
        "trunk_changed": not torch.equal(trunk0, model.trunk[0].weight),
        "heads_changed": any(not torch.equal(trainer.head_init[t], model.heads[t].weight) for t in CFG["tasks"]),
        "heads_registered": any(n.startswith("heads") for n, _ in model.named_parameters()),
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
