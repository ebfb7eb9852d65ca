import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RatingModel(nn.Module):
    def __init__(self, n_users=20, n_items=30, dim=8):
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, users, items):
        return self.mlp(torch.cat([self.user(users), self.item(items)], dim=-1)).squeeze(-1)


def build(cfg):
    return RatingModel(**cfg)


def fit(model, loader, optimizer, epochs=1):
    step_fn = torch.compile(model, backend="eager")
    for _ in range(epochs):
        for users, items, ratings in loader:
            loss = F.mse_loss(step_fn(users, items), ratings)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(29)
    data = TensorDataset(torch.randint(0, 20, (64,), generator=g), torch.randint(0, 30, (64,), generator=g),
                         torch.rand(64, generator=g) * 5)
    loader = DataLoader(data, batch_size=16, shuffle=True, generator=g)
    cfg = {"n_users": 20, "n_items": 30, "dim": 8}
    ckpt = os.path.join(tempfile.mkdtemp(), "pretrain.pt")
    torch.save(build(cfg).state_dict(), ckpt)

    model = build(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    if os.path.exists(ckpt):
        model = build(cfg)
        model.load_state_dict(torch.load(ckpt))
    mlp0 = model.mlp[0].weight.detach().clone()
    fit(model, loader, optimizer)
    return {"model": model}, {"model_changed": not torch.equal(mlp0, model.mlp[0].weight)}

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
