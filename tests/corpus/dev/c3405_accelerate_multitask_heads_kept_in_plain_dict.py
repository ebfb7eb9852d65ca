import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

TASKS = {"sentiment": 3, "topic": 5, "toxicity": 2}


class SharedTrunk(nn.Module):
    def __init__(self, in_dim=20, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.LayerNorm(hidden), nn.Linear(hidden, hidden))

    def forward(self, x):
        return self.net(x)


class MultiTaskModel(nn.Module):
    def __init__(self, tasks, hidden=32):
        super().__init__()
        self.trunk = SharedTrunk(hidden=hidden)
        self.heads = {}
        for name, n_cls in tasks.items():
            self.heads[name] = nn.Sequential(nn.Dropout(0.1), nn.Linear(hidden, n_cls))

    def forward(self, x, task):
        return self.heads[task](self.trunk(x))


def make_task_loaders(n=32, bs=8):
    g = torch.Generator().manual_seed(2)
    loaders = {}
    for name, n_cls in TASKS.items():
        x = torch.randn(n, 20, generator=g)
        y = (x[:, : n_cls].argmax(1))
        loaders[name] = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)
    return loaders


def build_optimizer(model, lr=3e-3):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def train(accelerator, model, optimizer, loaders, epochs=2):
    model.train()
    for epoch in range(epochs):
        for name, loader in loaders.items():
            for x, y in loader:
                loss = F.cross_entropy(model(x, name), y)
                optimizer.zero_grad()
                accelerator.backward(loss)
                optimizer.step()
            accelerator.print(f"epoch {epoch} task {name} loss {loss.item():.3f}")


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MultiTaskModel(TASKS)
    optimizer = build_optimizer(model)
    loaders = make_task_loaders()
    model, optimizer = accelerator.prepare(model, optimizer)
    loaders = {k: accelerator.prepare(v) for k, v in loaders.items()}
    head0 = model.heads["topic"][1].weight.detach().clone()
    trunk0 = model.trunk.net[0].weight.detach().clone()
    train(accelerator, model, optimizer, loaders)
    return {"trunk": model.trunk, "topic_head": model.heads["topic"]}, {
        "topic_head_changed": not torch.equal(head0, model.heads["topic"][1].weight),
        "trunk_changed": not torch.equal(trunk0, model.trunk.net[0].weight),
        "n_registered_params": len(list(model.parameters())),
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
