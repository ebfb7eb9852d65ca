import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MultiDomainSentiment(nn.Module):
    """Shared bag-of-embeddings encoder with one head per review domain, added on demand."""

    def __init__(self, vocab=60, dim=24):
        super().__init__()
        self.encoder = nn.EmbeddingBag(vocab, dim)
        self.shared = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        self.heads = nn.ModuleDict()
        self.domains = []
        self.dim = dim

    def add_domain(self, name, num_labels):
        self.heads[name] = nn.Linear(self.dim, num_labels)
        self.domains.append(name)

    def forward(self, ids):
        h = self.shared(self.encoder(ids))
        return {name: self.heads[name](h) for name in self.domains}


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for ids, y_books, y_movies in loader:
            out = model(ids)
            loss = F.cross_entropy(out["books"], y_books) + F.cross_entropy(out["movies"], y_movies)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 60, (48, 6), generator=g)
    y_books = (ids[:, 0] > 30).long()
    y_movies = ids[:, 1] % 3
    loader = DataLoader(TensorDataset(ids, y_books, y_movies), batch_size=12, shuffle=True, generator=g)
    model = MultiDomainSentiment()
    model.add_domain("books", 2)
    model.add_domain("movies", 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.heads["movies"].weight.detach().clone()
    train(model, loader, optimizer)
    return {"model": model}, {"movies_head_changed": not torch.equal(before, model.heads["movies"].weight)}

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
