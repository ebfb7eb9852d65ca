import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class UserTower(nn.Module):
    def __init__(self, n_users=50, n_ctx=6, dim=16):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, 32)
        self.mlp = nn.Sequential(nn.Linear(32 + n_ctx, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, user_ids, context):
        return F.normalize(self.mlp(torch.cat([self.user_emb(user_ids), context], dim=1)), dim=-1)


class ItemTower(nn.Module):
    def __init__(self, n_items=80, n_cats=5, dim=16):
        super().__init__()
        self.item_emb = nn.Embedding(n_items, 32)
        self.cat_emb = nn.Embedding(n_cats, 8)
        self.mlp = nn.Sequential(nn.Linear(40, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, item_ids, cats):
        return F.normalize(self.mlp(torch.cat([self.item_emb(item_ids), self.cat_emb(cats)], dim=1)), dim=-1)


def in_batch_softmax_loss(u, v, temperature=0.05):
    logits = u @ v.T / temperature
    return F.cross_entropy(logits, torch.arange(u.shape[0]))


def build_optimizer(model, lr=1e-3, weight_decay=1e-4):
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    user_tower, item_tower = UserTower(), ItemTower()
    optimizer = build_optimizer(user_tower)
    g = torch.Generator().manual_seed(0)
    users, items = torch.randint(0, 50, (64,), generator=g), torch.randint(0, 80, (64,), generator=g)
    data = TensorDataset(users, torch.randn(64, 6, generator=g), items, items % 5)
    loader = DataLoader(data, batch_size=16, shuffle=True)
    user_tower, item_tower, optimizer, loader = accelerator.prepare(user_tower, item_tower, optimizer, loader)
    item0 = item_tower.item_emb.weight.detach().clone()
    for epoch in range(2):
        for user_ids, ctx, item_ids, cats in loader:
            loss = in_batch_softmax_loss(user_tower(user_ids, ctx), item_tower(item_ids, cats))
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    return ({"user_tower": user_tower, "item_tower": item_tower},
            {"item_tower_changed": not torch.equal(item0, item_tower.item_emb.weight.detach())})

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
