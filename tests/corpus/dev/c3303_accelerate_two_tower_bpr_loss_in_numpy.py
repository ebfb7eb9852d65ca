import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

N_USERS, N_ITEMS = 50, 80


class Tower(nn.Module):
    def __init__(self, n, dim=16, hidden=32):
        super().__init__()
        self.emb = nn.Embedding(n, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, ids):
        return F.normalize(self.mlp(self.emb(ids)), dim=-1)


class TwoTowerRecommender(nn.Module):
    def __init__(self):
        super().__init__()
        self.user_tower = Tower(N_USERS)
        self.item_tower = Tower(N_ITEMS)
        self.temperature = 0.2

    def score(self, users, items):
        return (self.user_tower(users) * self.item_tower(items)).sum(-1) / self.temperature


def bpr_loss(pos_scores, neg_scores, weight_decay_term=0.0):
    """Numerically stable -log(sigmoid(pos - neg)), averaged."""
    diff = (pos_scores - neg_scores).detach().cpu().numpy()
    per_pair = np.logaddexp(0.0, -diff)
    loss = torch.tensor(per_pair.mean() + weight_decay_term, dtype=torch.float32, requires_grad=True)
    return loss


def sample_triples(n=96):
    rng = np.random.default_rng(0)
    users = rng.integers(0, N_USERS, n)
    pos = (users * 7 + rng.integers(0, 3, n)) % N_ITEMS
    neg = rng.integers(0, N_ITEMS, n)
    return TensorDataset(torch.as_tensor(users), torch.as_tensor(pos), torch.as_tensor(neg))


def train(model, loader, optimizer, accelerator, epochs=2):
    model.train()
    history = []
    for epoch in range(epochs):
        total = 0.0
        for users, pos, neg in loader:
            loss = bpr_loss(model.score(users, pos), model.score(users, neg))
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            total += loss.item()
        history.append(total / len(loader))
    return history


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = TwoTowerRecommender()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loader = DataLoader(sample_triples(), batch_size=32, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    item0 = model.item_tower.emb.weight.detach().clone()
    train(model, loader, optimizer, accelerator)
    facts = {"item_embeddings_changed": not torch.equal(item0, model.item_tower.emb.weight)}
    return {"model": model}, facts

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
