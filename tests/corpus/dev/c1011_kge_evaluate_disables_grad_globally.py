import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DistMult(nn.Module):
    def __init__(self, num_entities=40, num_relations=5, dim=16):
        super().__init__()
        self.entity = nn.Embedding(num_entities, dim)
        self.relation = nn.Embedding(num_relations, dim)

    def forward(self, heads, rels, tails):
        return (self.entity(heads) * self.relation(rels) * self.entity(tails)).sum(-1)


def corrupt(tails, num_entities, g):
    return torch.randint(0, num_entities, tails.shape, generator=g)


def train_epoch(model, loader, optimizer, g):
    model.train()
    for h, r, t in loader:
        pos = model(h, r, t)
        neg = model(h, r, corrupt(t, 40, g))
        loss = F.softplus(-pos).mean() + F.softplus(neg).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def evaluate(model, loader):
    """Filtered hits@10 would go here; raw hits@10 is enough for model selection."""
    model.eval()
    torch.set_grad_enabled(False)
    hits = 0
    for h, r, t in loader:
        scores = (model.entity(h) * model.relation(r)) @ model.entity.weight.t()
        hits += (scores.topk(10, dim=1).indices == t[:, None]).any(1).sum().item()
    model.train()
    return hits / len(loader.dataset)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    triples = torch.stack([torch.randint(0, 40, (96,), generator=g), torch.randint(0, 5, (96,), generator=g),
                           torch.randint(0, 40, (96,), generator=g)], dim=1)
    train_loader = DataLoader(TensorDataset(*triples[:80].t()), batch_size=16, shuffle=True, generator=g)
    valid_loader = DataLoader(TensorDataset(*triples[80:].t()), batch_size=16)
    model = DistMult()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)
    history = []
    for epoch in range(3):
        train_epoch(model, train_loader, optimizer, g)
        history.append(evaluate(model, valid_loader))
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
