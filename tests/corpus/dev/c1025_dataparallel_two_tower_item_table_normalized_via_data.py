import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TwoTowerRecommender(nn.Module):
    def __init__(self, n_users=30, n_items=50, dim=16):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.user_tower = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.item_emb = nn.Embedding(n_items, dim)

    def user_vectors(self, users):
        return F.normalize(self.user_tower(self.user_emb(users)), dim=-1)

    def item_vectors(self, items):
        table = F.normalize(self.item_emb.weight.data, dim=-1)
        return table[items]

    def forward(self, users, pos_items, neg_items):
        u = self.user_vectors(users)
        return (u * self.item_vectors(pos_items)).sum(-1), (u * self.item_vectors(neg_items)).sum(-1)


def bpr_loss(pos_scores, neg_scores, temperature=0.1):
    return -F.logsigmoid((pos_scores - neg_scores) / temperature).mean()


def train(model, loader, optimizer, n_items=50, epochs=2):
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(epochs):
        for users, pos in loader:
            neg = torch.randint(0, n_items, pos.shape, generator=g)
            pos_s, neg_s = model(users, pos, neg)
            loss = bpr_loss(pos_s, neg_s)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, 30, (96,), generator=g)
    pos = (users * 7 + torch.randint(0, 3, (96,), generator=g)) % 50
    loader = DataLoader(TensorDataset(users, pos), batch_size=24, shuffle=True, generator=g)
    net = TwoTowerRecommender()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = net.item_emb.weight.detach().clone()
    train(model, loader, optimizer)
    return {"net": net}, {"item_table_changed": not torch.equal(before, net.item_emb.weight)}

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
