import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MatrixFactorization(nn.Module):
    def __init__(self, n_users, n_items, dim=8):
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.global_bias = nn.Parameter(torch.zeros(1))

    def forward(self, users, items, item_bias):
        dot = (self.user(users) * self.item(items)).sum(dim=-1)
        return dot + item_bias[items] + self.global_bias


def make_item_bias(n_items, init_std=0.01):
    return torch.randn(n_items, requires_grad=True) * init_std


def train(model, item_bias, loader, epochs=2, lr=0.05, weight_decay=1e-4):
    optimizer = torch.optim.SGD([{"params": model.parameters()},
                                 {"params": [item_bias], "weight_decay": 0.0}], lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        for users, items, ratings in loader:
            loss = F.mse_loss(model(users, items, item_bias), ratings)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    n_users, n_items = 20, 30
    users = torch.randint(0, n_users, (128,))
    items = torch.randint(0, n_items, (128,))
    ratings = 3.0 + torch.randn(128)
    loader = DataLoader(TensorDataset(users, items, ratings), batch_size=32, shuffle=True)
    model = MatrixFactorization(n_users, n_items)
    item_bias = make_item_bias(n_items)
    train(model, item_bias, loader)
    return {"model": model, "item_bias": item_bias}

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
