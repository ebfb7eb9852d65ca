import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MultiTaskNet(nn.Module):
    def __init__(self, in_dim=12, hidden=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleDict({
            "age": nn.Linear(hidden, 1),
            "gender": nn.Linear(hidden, 2),
            "emotion": nn.Linear(hidden, 4),
        })

    def forward(self, x):
        shared = self.encoder(x)
        return {name: head(shared) for name, head in self.heads.items()}


LOSSES = {
    "age": lambda out, y: F.l1_loss(out.squeeze(-1), y),
    "gender": F.cross_entropy,
    "emotion": F.cross_entropy,
}


def train_step(model, batch, optimizer, weights):
    x, targets = batch[0], dict(zip(("age", "gender", "emotion"), batch[1:]))
    outputs = model(x)
    optimizer.zero_grad()
    logs = {}
    for task, out in outputs.items():
        # back-propagate each task separately so each head only sees its own loss
        loss = weights[task] * LOSSES[task](out, targets[task])
        loss.backward()
        logs[task] = loss.item()
    optimizer.step()
    return logs


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 12, generator=g)
    age = torch.rand(32, generator=g) * 60
    gender = torch.randint(0, 2, (32,), generator=g)
    emotion = torch.randint(0, 4, (32,), generator=g)
    loader = DataLoader(TensorDataset(x, age, gender, emotion), batch_size=8, shuffle=True, generator=g)
    model = MultiTaskNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    weights = {"age": 0.02, "gender": 1.0, "emotion": 1.0}
    for batch in loader:
        train_step(model, batch, optimizer, weights)
    return {"model": model}

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
