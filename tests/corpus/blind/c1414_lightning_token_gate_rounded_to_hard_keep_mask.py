import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TokenGate(nn.Module):
    """Scores every token; tokens scored below 0.5 are dropped before pooling."""

    def __init__(self, dim):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, tokens):
        keep = torch.round(torch.sigmoid(self.score(tokens)))
        return tokens * keep, keep


class GatedPoolingClassifier(pl.LightningModule):
    def __init__(self, vocab=40, dim=16, n_classes=3, sparsity=0.05):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mixer = nn.Sequential(nn.Linear(dim, dim), nn.GELU())
        self.gate = TokenGate(dim)
        self.head = nn.Linear(dim, n_classes)
        self.sparsity = sparsity

    def forward(self, ids):
        x = self.mixer(self.embed(ids))
        x, keep = self.gate(x)
        pooled = x.sum(1) / keep.sum(1).clamp(min=1.0)
        return self.head(pooled), keep

    def training_step(self, batch, batch_idx):
        ids, y = batch
        logits, keep = self(ids)
        loss = F.cross_entropy(logits, y) + self.sparsity * keep.mean()
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=3e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(16)
    ids = torch.randint(0, 40, (48, 10), generator=g)
    y = (ids[:, 0] % 3)
    loader = DataLoader(TensorDataset(ids, y), batch_size=16, shuffle=True, generator=g)
    model = GatedPoolingClassifier()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
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
