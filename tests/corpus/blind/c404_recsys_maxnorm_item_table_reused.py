import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RetrievalMF(nn.Module):
    """User/item factorization scored with a full softmax over the item catalogue."""

    def __init__(self, n_users=40, n_items=60, dim=16):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim, max_norm=1.0)
        self.item_emb = nn.Embedding(n_items, dim, max_norm=1.0)
        self.user_bias = nn.Embedding(n_users, 1)

    def score_catalogue(self, users):
        u = self.user_emb(users)
        return u @ self.item_emb.weight.t() + self.user_bias(users), u

    def forward(self, users, items):
        logits, u = self.score_catalogue(users)
        pos = self.item_emb(items)
        return logits, u, pos


def retrieval_loss(logits, u, pos, items, l2=1e-3):
    reg = l2 * (u.pow(2).sum(1) + pos.pow(2).sum(1)).mean()
    return F.cross_entropy(logits, items) + reg


def make_loader(n=256, n_users=40, n_items=60):
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, n_users, (n,), generator=g)
    items = (users * 7 + torch.randint(0, 3, (n,), generator=g)) % n_items
    return DataLoader(TensorDataset(users, items), batch_size=64, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for users, items in loader:
            logits, u, pos = model(users, items)
            loss = retrieval_loss(logits, u, pos, items)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = RetrievalMF()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, make_loader(), optimizer)
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
