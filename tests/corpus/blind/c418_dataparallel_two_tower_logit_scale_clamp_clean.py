import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Tower(nn.Module):
    def __init__(self, vocab, dim=32, out=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, out))

    def forward(self, ids):
        return F.normalize(self.proj(self.embed(ids)), dim=-1)


class TwoTower(nn.Module):
    def __init__(self, n_query_tokens=50, n_item_tokens=80):
        super().__init__()
        self.query_tower = Tower(n_query_tokens)
        self.item_tower = Tower(n_item_tokens)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, query_ids, item_ids):
        q, it = self.query_tower(query_ids), self.item_tower(item_ids)
        return self.logit_scale.exp() * q @ it.t()


def in_batch_softmax_loss(logits):
    labels = torch.arange(logits.size(0))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


@torch.no_grad()
def recall_at_1(model, loader):
    model.eval()
    hits, total = 0, 0
    for q, it in loader:
        hits += (model(q, it).argmax(1) == torch.arange(q.size(0))).sum().item()
        total += q.size(0)
    model.train()
    return hits / total


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    queries = torch.randint(0, 50, (128, 5), generator=g)
    items = (queries * 3 + 1) % 80
    loader = DataLoader(TensorDataset(queries, items), batch_size=32, shuffle=True, generator=g)
    model = nn.DataParallel(TwoTower())
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    before = recall_at_1(model, loader)
    running = 0.0
    for epoch in range(3):
        for q, it in loader:
            loss = in_batch_softmax_loss(model(q, it))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.module.logit_scale.clamp_(0, math.log(100))
            running += loss.item()
    after = recall_at_1(model, loader)
    facts = {"recall_improved": after > before, "scale_within_bounds": bool(model.module.logit_scale.item() <= math.log(100))}
    return {"model": model.module}, facts

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
