import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ReviewEncoder(nn.Module):
    def __init__(self, vocab=70, dim=24):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, 3, padding=1)
        self.attn = nn.Linear(dim, 1)

    def forward(self, emb):
        h = torch.relu(self.conv(emb.transpose(1, 2))).transpose(1, 2)
        w = self.attn(h).softmax(dim=1)
        return (w * h).sum(dim=1)


class SaliencyTrackedClassifier(pl.LightningModule):
    """Sentiment classifier that records per-token gradient saliency after every backward,
    used to pick the tokens that the next epoch's augmentation is allowed to drop."""

    def __init__(self, vocab=70, dim=24, n_classes=2, lr=1e-3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.emb_dropout = nn.Dropout(0.1)
        self.encoder = ReviewEncoder(vocab, dim)
        self.classifier = nn.Linear(dim, n_classes)
        self.lr = lr
        self.saliency_steps = 0
        self._emb = None

    def training_step(self, batch, batch_idx):
        ids, labels = batch
        emb = self.embed(ids)
        emb.retain_grad()
        emb = self.emb_dropout(emb) * (emb.size(-1) ** 0.5)
        self._emb = emb
        loss = F.cross_entropy(self.classifier(self.encoder(emb)), labels)
        self.log("train/ce", loss)
        return loss

    def on_after_backward(self):
        grad = self._emb.grad
        if grad is not None:
            self.token_saliency = grad.norm(dim=-1).detach()
            self.saliency_steps += 1

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 70, (24, 9), generator=g)
    labels = (ids[:, 0] > 35).long()
    loader = DataLoader(TensorDataset(ids, labels), batch_size=6, shuffle=True, generator=g)
    model = SaliencyTrackedClassifier()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model, "token_embeddings": model._emb}, {"saliency_recorded": model.saliency_steps > 0}

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
