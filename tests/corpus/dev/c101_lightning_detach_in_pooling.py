import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl


def masked_mean_pool(hidden, mask):
    """Average token states over the non-padding positions."""
    mask = mask.unsqueeze(-1).float()
    summed = (hidden * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1.0)
    return (summed / counts).detach()


class TextClassifier(pl.LightningModule):
    def __init__(self, vocab_size=30, dim=16, n_classes=3, lr=1e-2):
        super().__init__()
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.encoder = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.classifier = nn.Linear(dim, n_classes)
        self.lr = lr

    def forward(self, tokens):
        mask = tokens != 0
        hidden = self.encoder(self.embed(tokens))
        pooled = masked_mean_pool(hidden, mask)
        return self.classifier(pooled)

    def training_step(self, batch, batch_idx):
        tokens, labels = batch
        loss = F.cross_entropy(self(tokens), labels)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        tokens, labels = batch
        acc = (self(tokens).argmax(dim=-1) == labels).float().mean()
        self.log("val_acc", acc)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def make_loader(n=48, seq_len=10, vocab_size=30, seed=0, shuffle=True):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, vocab_size, (n, seq_len), generator=g)
    lengths = torch.randint(4, seq_len + 1, (n,), generator=g)
    tokens[torch.arange(seq_len)[None, :] >= lengths[:, None]] = 0
    labels = torch.randint(0, 3, (n,), generator=g)
    return DataLoader(TensorDataset(tokens, labels), batch_size=16, shuffle=shuffle, generator=g)


def main():
    pl.seed_everything(0)
    model = TextClassifier()
    encoder_before = model.encoder[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader(), make_loader(seed=1, shuffle=False))
    facts = {"encoder_changed": not torch.equal(encoder_before, model.encoder[0].weight.detach())}
    return {"model": model}, facts

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
