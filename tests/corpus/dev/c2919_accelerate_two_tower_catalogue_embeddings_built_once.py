import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Tower(nn.Module):
    def __init__(self, n_ids, n_feats, dim=16):
        super().__init__()
        self.id_embedding = nn.Embedding(n_ids, dim)
        self.feat_proj = nn.Linear(n_feats, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, ids, feats):
        h = torch.cat([self.id_embedding(ids), self.feat_proj(feats)], dim=-1)
        return F.normalize(self.mlp(h), dim=-1)


class TwoTowerRetriever(nn.Module):
    def __init__(self, n_users=30, n_items=20, user_feats=4, item_feats=3, temperature=0.1):
        super().__init__()
        self.user_tower = Tower(n_users, user_feats)
        self.item_tower = Tower(n_items, item_feats)
        self.temperature = temperature

    def score(self, user_vecs, item_table):
        return user_vecs @ item_table.T / self.temperature


def make_data(n_users=30, n_items=20, n_events=48):
    g = torch.Generator().manual_seed(0)
    user_feats = torch.randn(n_users, 4, generator=g)
    item_feats = torch.randn(n_items, 3, generator=g)
    users = torch.randint(0, n_users, (n_events,), generator=g)
    liked = (user_feats[users, :3] @ item_feats.T).argmax(-1)
    return user_feats, item_feats, TensorDataset(users, liked)


def main():
    set_seed(0)
    accelerator = Accelerator()
    user_feats, item_feats, events = make_data()
    model = TwoTowerRetriever()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loader = DataLoader(events, batch_size=12, shuffle=True, generator=torch.Generator().manual_seed(0))
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    all_items = torch.arange(item_feats.shape[0])
    item_before = model.item_tower.id_embedding.weight.detach().clone()
    model.train()
    item_table = model.item_tower(all_items, item_feats)
    for epoch in range(2):
        for users, liked in loader:
            user_vecs = model.user_tower(users, user_feats[users])
            loss = F.cross_entropy(model.score(user_vecs, item_table), liked)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    return {"model": model}, {"item_tower_changed": not torch.equal(item_before, model.item_tower.id_embedding.weight)}

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
