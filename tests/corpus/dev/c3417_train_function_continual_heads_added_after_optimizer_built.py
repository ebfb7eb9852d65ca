import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class IncrementalClassifier(nn.Module):
    """Class-incremental model: a shared feature extractor and one head per experience."""

    def __init__(self, in_dim=16, hidden=32):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleList()
        self.hidden = hidden

    def add_head(self, n_classes):
        self.heads.append(nn.Linear(self.hidden, n_classes))
        return len(self.heads) - 1

    def forward(self, x, head_id):
        return self.heads[head_id](self.features(x))


def experience_stream(n_exp=2, n=32, classes=3):
    g = torch.Generator().manual_seed(9)
    stream = []
    for e in range(n_exp):
        x = torch.randn(n, 16, generator=g) + e
        y = x[:, e * 3:(e + 1) * 3].argmax(1)
        stream.append((classes, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)))
    return stream


def make_optimizer(model, lr=1e-2):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def train_experience(model, optimizer, loader, head_id, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x, head_id), y)
            loss.backward()
            optimizer.step()
    return loss.item()


def train_stream(model, stream):
    model.add_head(stream[0][0])
    optimizer = make_optimizer(model)
    snapshots = {}
    for e, (n_classes, loader) in enumerate(stream):
        head_id = e if e < len(model.heads) else model.add_head(n_classes)
        snapshots[head_id] = model.heads[head_id].weight.detach().clone()
        train_experience(model, optimizer, loader, head_id)
    return snapshots


def main():
    torch.manual_seed(0)
    model = IncrementalClassifier()
    snaps = train_stream(model, experience_stream())
    return {"model": model}, {
        "first_head_changed": not torch.equal(snaps[0], model.heads[0].weight),
        "second_head_changed": not torch.equal(snaps[1], model.heads[1].weight),
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
