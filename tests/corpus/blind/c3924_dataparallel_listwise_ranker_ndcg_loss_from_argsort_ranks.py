import torch
import torch.nn as nn
import torch.nn.functional as F


class ListwiseScorer(nn.Module):
    def __init__(self, n_feat=8, hidden=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_feat, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, docs):
        return self.mlp(docs).squeeze(-1)


def dcg_loss(scores, relevance, k=5):
    order = scores.argsort(dim=-1, descending=True)
    ranks = order.argsort(dim=-1).float()
    gains = (2 ** relevance - 1) / torch.log2(ranks + 2)
    ideal = ((2 ** relevance.sort(-1, descending=True).values - 1) / torch.log2(torch.arange(relevance.shape[-1]) + 2.0))
    ndcg = (gains * (ranks < k)).sum(-1) / ideal[:, :k].sum(-1).clamp(min=1e-6)
    return (1 - ndcg).mean()


def make_slates(n_queries=16, slate=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    docs = torch.randn(n_queries, slate, 8, generator=g)
    relevance = (docs[..., 0] * 1.5 + docs[..., 1]).clamp(0, 3).round()
    return docs, relevance


def train(model, optimizer, steps=4):
    for step in range(steps):
        docs, relevance = make_slates(seed=step)
        loss = dcg_loss(model(docs), relevance)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(ListwiseScorer())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, optimizer)
    return {"model": model.module}

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
