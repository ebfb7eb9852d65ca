import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TokenPruner(nn.Module):
    """Learned token pruning: tokens whose importance score falls below the threshold are dropped."""

    def __init__(self, dim=16, threshold=0.5):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, 16), nn.GELU(), nn.Linear(16, 1))
        self.threshold = threshold

    def forward(self, h):
        importance = torch.sigmoid(self.score(h)).squeeze(-1)
        keep = (importance > self.threshold).float()
        return h * keep.unsqueeze(-1), keep


class PrunedEncoder(nn.Module):
    def __init__(self, vocab=70, dim=16, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.block1 = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.pruner = TokenPruner(dim)
        self.block2 = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        h = self.block1(self.embed(tokens))
        h, keep = self.pruner(h)
        h = self.block2(h)
        return self.head(h.mean(dim=1)), keep


def train(fabric, model, optimizer, loader, epochs=2, sparsity_weight=0.1):
    model.train()
    for _ in range(epochs):
        for tokens, labels in loader:
            logits, keep = model(tokens)
            loss = F.cross_entropy(logits, labels) + sparsity_weight * keep.mean()
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(79)
    g = torch.Generator().manual_seed(79)
    tokens = torch.randint(0, 70, (40, 10), generator=g)
    labels = tokens[:, 0] % 3
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(tokens, labels), batch_size=10, shuffle=True, generator=g))
    model = PrunedEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(model, optimizer)
    score0 = model.module.pruner.score[0].weight.detach().clone()
    train(fabric, model, optimizer, loader)
    return {"model": model.module}, {"scorer_changed": not torch.equal(score0, model.module.pruner.score[0].weight)}

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
