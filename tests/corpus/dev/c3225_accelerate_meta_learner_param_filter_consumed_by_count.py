import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Tower(nn.Module):
    def __init__(self, n_ids, dim=16):
        super().__init__()
        self.emb = nn.Embedding(n_ids, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, ids):
        return F.normalize(self.mlp(self.emb(ids)), dim=-1)


class TwoTower(nn.Module):
    def __init__(self, n_users=30, n_items=40):
        super().__init__()
        self.user = Tower(n_users)
        self.item = Tower(n_items)
        self.log_temp = nn.Parameter(torch.tensor(2.0))

    def forward(self, users, items):
        return self.user(users) @ self.item(items).T * self.log_temp.exp()


def build_optimizer(model, lr=1e-3, weight_decay=0.0):
    params = filter(lambda p: p.requires_grad, model.parameters())
    n_trainable = sum(p.numel() for p in params)
    print(f"trainable parameters: {n_trainable}")
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def interactions(n=32):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randint(0, 30, (n,), generator=g), torch.randint(0, 40, (n,), generator=g)),
                      batch_size=8, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = TwoTower()
    optimizer = build_optimizer(model)
    model, optimizer, loader = accelerator.prepare(model, optimizer, interactions())
    for users, items in loader:
        with accelerator.accumulate(model):
            logits = model(users, items)
            loss = F.cross_entropy(logits, torch.arange(len(users)))
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
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
