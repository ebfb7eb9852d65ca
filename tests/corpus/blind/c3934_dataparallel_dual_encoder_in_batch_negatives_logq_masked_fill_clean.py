import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class QueryTower(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.tokens = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.proj = nn.Linear(dim, dim)

    def forward(self, token_ids):
        return F.normalize(self.proj(self.tokens(token_ids)), dim=-1)


class ItemTower(nn.Module):
    def __init__(self, n_items=40, n_cats=5, dim=16):
        super().__init__()
        self.item = nn.Embedding(n_items, dim)
        self.cat = nn.Embedding(n_cats, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, item_ids, cat_ids):
        return F.normalize(self.proj(self.item(item_ids) + self.cat(cat_ids)), dim=-1)


class DualEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.query_tower, self.item_tower = QueryTower(), ItemTower()
        self.log_temp = nn.Parameter(torch.tensor(2.0))

    def forward(self, token_ids, item_ids, cat_ids):
        return self.log_temp.exp() * self.query_tower(token_ids) @ self.item_tower(item_ids, cat_ids).t()


def in_batch_loss(logits, item_ids, log_q):
    logits = logits - log_q[None, :]
    same = item_ids[:, None] == item_ids[None, :]
    logits = logits.masked_fill(same & ~torch.eye(len(item_ids), dtype=torch.bool), -1e4)
    return F.cross_entropy(logits, torch.arange(len(item_ids)))


def main():
    torch.manual_seed(0)
    items = torch.randint(0, 40, (64,))
    queries = torch.stack([items % 50, (items * 3) % 50, torch.randint(0, 50, (64,))], 1)
    cats = items % 5
    popularity = torch.bincount(items, minlength=40).float() + 1
    log_q = (popularity / popularity.sum()).log()
    model = nn.DataParallel(DualEncoder())
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loader = DataLoader(TensorDataset(queries, items, cats), batch_size=16, shuffle=True)
    q0 = model.module.query_tower.proj.weight.detach().clone()
    recall_log = []
    for epoch in range(2):
        for tok, it, ct in loader:
            logits = model(tok, it, ct)
            loss = in_batch_loss(logits, it, log_q[it].detach())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            recall_log.append((logits.detach().argmax(1) == torch.arange(len(it))).float().mean().item())
    return {"model": model.module}, {
        "query_tower_changed": not torch.equal(q0, model.module.query_tower.proj.weight),
        "logged": len(recall_log) == 8,
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
