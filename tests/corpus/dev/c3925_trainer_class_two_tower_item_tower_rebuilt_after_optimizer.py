import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Tower(nn.Module):
    def __init__(self, n_ids, dim=16):
        super().__init__()
        self.embedding = nn.Embedding(n_ids, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, ids):
        return F.normalize(self.mlp(self.embedding(ids)), dim=-1)


class TwoTowerRecommender(nn.Module):
    def __init__(self, n_users, n_items, dim=16):
        super().__init__()
        self.user_tower = Tower(n_users, dim)
        self.item_tower = Tower(n_items, dim)

    def grow_item_vocab(self, n_new):
        old = self.item_tower
        new = Tower(old.embedding.num_embeddings + n_new, old.embedding.embedding_dim)
        with torch.no_grad():
            new.embedding.weight[: old.embedding.num_embeddings] = old.embedding.weight
        new.mlp.load_state_dict(old.mlp.state_dict())
        self.item_tower = new

    def forward(self, users, items):
        return self.user_tower(users) @ self.item_tower(items).t()


class RecTrainer:
    def __init__(self, model, lr=5e-3, temperature=0.1):
        self.model, self.lr, self.temperature = model, lr, temperature
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def add_catalog_items(self, n_new):
        self.model.grow_item_vocab(n_new)

    def train_epoch(self, loader):
        self.model.train()
        for users, items in loader:
            logits = self.model(users, items) / self.temperature
            loss = F.cross_entropy(logits, torch.arange(users.shape[0]))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return loss.item()


def interactions(n=64, n_users=20, n_items=30):
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, n_users, (n,), generator=g)
    items = (users * 7 + torch.randint(0, 3, (n,), generator=g)) % n_items
    return DataLoader(TensorDataset(users, items), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = TwoTowerRecommender(n_users=20, n_items=25)
    trainer = RecTrainer(model)
    trainer.train_epoch(interactions(n_items=25))
    trainer.add_catalog_items(5)
    item0 = model.item_tower.mlp[0].weight.detach().clone()
    user0 = model.user_tower.mlp[0].weight.detach().clone()
    trainer.train_epoch(interactions(n_items=30))
    return {"model": model}, {
        "item_tower_changed": not torch.equal(item0, model.item_tower.mlp[0].weight),
        "user_tower_changed": not torch.equal(user0, model.user_tower.mlp[0].weight),
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
