import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BiGRUClassifier(nn.Module):
    def __init__(self, vocab=60, dim=16, n_cls=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * dim, n_cls)

    def encode(self, embeds):
        h, _ = self.rnn(embeds)
        return self.out(h.mean(dim=1))

    def forward(self, ids):
        return self.encode(self.embed(ids))


class EmbeddingFGM:
    """Fast Gradient Method on the word-embedding output (adversarial training for text)."""

    def __init__(self, model, epsilon=0.5):
        self.model, self.epsilon = model, epsilon

    def forward_with_grad(self, ids):
        embeds = self.model.embed(ids)
        embeds.requires_grad_()
        return embeds, self.model.encode(embeds)

    def perturb(self, embeds):
        grad = embeds.grad
        norm = torch.norm(grad)
        return embeds.detach() + self.epsilon * grad / (norm + 1e-8)


def train(model, loader, optimizer, epochs=1):
    fgm = EmbeddingFGM(model)
    model.train()
    for _ in range(epochs):
        for ids, y in loader:
            optimizer.zero_grad()
            embeds, logits = fgm.forward_with_grad(ids)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            adv_logits = model.encode(fgm.perturb(embeds))
            F.cross_entropy(adv_logits, y).backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    ids = torch.randint(0, 60, (24, 7))
    y = torch.randint(0, 3, (24,))
    loader = DataLoader(TensorDataset(ids, y), batch_size=8, shuffle=True)
    model = BiGRUClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
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
