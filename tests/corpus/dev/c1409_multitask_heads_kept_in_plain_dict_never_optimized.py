import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TASKS = {"sentiment": 3, "topic": 5}


class SharedEncoder(nn.Module):
    def __init__(self, vocab=80, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU())

    def forward(self, tokens):
        return self.mlp(self.embed(tokens))


class MultiTaskModel(nn.Module):
    def __init__(self, tasks=TASKS, dim=16):
        super().__init__()
        self.encoder = SharedEncoder(dim=dim)
        self.heads = {name: nn.Linear(dim, n) for name, n in tasks.items()}

    def forward(self, tokens, task):
        return self.heads[task](self.encoder(tokens))


def make_loaders():
    g = torch.Generator().manual_seed(11)
    loaders = {}
    for task, n in TASKS.items():
        tokens = torch.randint(0, 80, (32, 6), generator=g)
        labels = torch.randint(0, n, (32,), generator=g)
        loaders[task] = DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True, generator=g)
    return loaders


def train(model, loaders, optimizer, epochs=1):
    for _ in range(epochs):
        for task, loader in loaders.items():
            for tokens, labels in loader:
                loss = F.cross_entropy(model(tokens, task), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()


def main():
    torch.manual_seed(0)
    model = MultiTaskModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    topic_before = model.heads["topic"].weight.detach().clone()
    train(model, make_loaders(), optimizer)
    return ({"model": model, "topic_head": model.heads["topic"]},
            {"topic_head_changed": not torch.equal(topic_before, model.heads["topic"].weight)})

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
