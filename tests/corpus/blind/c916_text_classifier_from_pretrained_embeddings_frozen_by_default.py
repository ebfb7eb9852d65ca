import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def load_pretrained_vectors(vocab_size=100, dim=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    vectors = torch.randn(vocab_size, dim, generator=g) * 0.5
    vectors[0] = 0.0
    return vectors


class BiGRUClassifier(nn.Module):
    def __init__(self, vectors, n_classes=3, hidden=32, finetune_embeddings=True):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors, padding_idx=0)
        self.finetune_embeddings = finetune_embeddings
        self.encoder = nn.GRU(vectors.shape[1], hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, ids):
        out, _ = self.encoder(self.embedding(ids))
        mask = (ids != 0).unsqueeze(-1).float()
        return self.head((out * mask).sum(1) / mask.sum(1).clamp(min=1))


def make_loader(n=64, seq_len=12, vocab=100, n_classes=3):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, vocab, (n, seq_len), generator=g)
    ids[:, -3:] = 0
    return DataLoader(TensorDataset(ids, ids[:, 0] % n_classes), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for ids, y in loader:
            loss = F.cross_entropy(model(ids), y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = BiGRUClassifier(load_pretrained_vectors())
    optimizer = torch.optim.Adam([
        {"params": model.embedding.parameters(), "lr": 1e-3},
        {"params": list(model.encoder.parameters()) + list(model.head.parameters()), "lr": 5e-3},
    ])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    before = model.embedding.weight.detach().clone()
    train(model, make_loader(), optimizer, scheduler)
    return {"model": model}, {"embedding_changed": not torch.equal(before, model.embedding.weight)}

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
