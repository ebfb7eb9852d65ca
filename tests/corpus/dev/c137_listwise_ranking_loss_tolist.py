import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Scorer(nn.Module):
    def __init__(self, n_features=8, hidden=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.mlp(x).squeeze(-1)


def listnet_loss(scores, relevance, query_ids):
    losses = []
    for q in query_ids.unique().tolist():
        sel = query_ids == q
        s = scores[sel].tolist()
        r = relevance[sel].tolist()
        zs, zr = sum(math.exp(v) for v in s), sum(math.exp(v) for v in r)
        losses.append(-sum((math.exp(rv) / zr) * (sv - math.log(zs)) for sv, rv in zip(s, r)))
    return torch.tensor(losses).mean()


def train(model, loader, optimizer, epochs=1):
    for _ in range(epochs):
        for x, rel, qid in loader:
            optimizer.zero_grad()
            loss = listnet_loss(model(x), rel, qid)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    n = 40
    data = TensorDataset(torch.randn(n, 8), torch.randint(0, 4, (n,)).float(), torch.arange(n) // 5)
    model = Scorer()
    train(model, DataLoader(data, batch_size=20), torch.optim.Adam(model.parameters(), lr=1e-3))
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
