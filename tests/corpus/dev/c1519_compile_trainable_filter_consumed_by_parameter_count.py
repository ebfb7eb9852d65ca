import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SentimentGRU(nn.Module):
    def __init__(self, vocab=100, dim=16, n_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        _, h = self.rnn(self.embedding(tokens))
        return self.classifier(h[-1])


def load_pretrained_embeddings(model, table):
    with torch.no_grad():
        model.embedding.weight.copy_(table)
    model.embedding.weight.requires_grad_(False)


def trainable_parameters(model):
    return filter(lambda p: p.requires_grad, model.parameters())


def count_parameters(params):
    return sum(p.numel() for p in params)


def build_optimizer(model, lr=1e-2, weight_decay=0.01):
    params = trainable_parameters(model)
    stats = {"trainable": count_parameters(params)}
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return optimizer, stats


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(19)
    tokens = torch.randint(0, 100, (32, 12), generator=g)
    labels = (tokens < 50).float().mean(1).gt(0.5).long()
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True, generator=g)
    model = SentimentGRU()
    load_pretrained_embeddings(model, torch.randn(100, 16, generator=g))
    optimizer, stats = build_optimizer(model)
    compiled = torch.compile(model)
    for tokens, labels in loader:
        optimizer.zero_grad()
        F.cross_entropy(compiled(tokens), labels).backward()
        optimizer.step()
    return {"model": model}, stats

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
