import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BiGRUClassifier(nn.Module):
    def __init__(self, vocab=40, dim=16, n_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * dim, n_classes)

    def embed(self, tokens):
        return self.embedding(tokens)

    def forward_from_embeddings(self, emb):
        out, _ = self.rnn(emb)
        return self.fc(out.mean(dim=1))

    def forward(self, tokens):
        return self.forward_from_embeddings(self.embed(tokens))


def adversarial_step(model, tokens, labels, epsilon=0.5):
    """Fast-gradient perturbation of the word embeddings (FGM-style adversarial training)."""
    emb = model.embed(tokens)
    loss = F.cross_entropy(model.forward_from_embeddings(emb), labels)
    loss.backward(retain_graph=True)
    emb.retain_grad()
    delta = epsilon * emb.grad.sign()
    adv_loss = F.cross_entropy(model.forward_from_embeddings(emb + delta.detach()), labels)
    adv_loss.backward()
    return loss.item(), adv_loss.item()


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for tokens, labels in loader:
            optimizer.zero_grad()
            adversarial_step(model, tokens, labels)
            optimizer.step()


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randint(0, 40, (32, 7)), torch.randint(0, 3, (32,)))
    model = BiGRUClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, DataLoader(data, batch_size=8, shuffle=True), optimizer)
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
