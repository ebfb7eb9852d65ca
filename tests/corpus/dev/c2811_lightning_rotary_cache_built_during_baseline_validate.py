import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


class RotaryEmbedding(nn.Module):
    """Rotary position embedding with a lazily built cos/sin table, reused across calls."""

    def __init__(self, dim, base=10000.0):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / base ** (torch.arange(0, dim, 2).float() / dim), persistent=False)
        self._seq_len_cached = 0
        self._cos, self._sin = None, None

    def _update_cache(self, seq_len):
        if seq_len > self._seq_len_cached:
            t = torch.arange(seq_len, dtype=self.inv_freq.dtype)
            freqs = torch.outer(t, self.inv_freq)
            emb = torch.cat([freqs, freqs], dim=-1)
            self._cos, self._sin = emb.cos(), emb.sin()
            self._seq_len_cached = seq_len

    def forward(self, q, k):
        self._update_cache(q.shape[-2])
        cos, sin = self._cos[: q.shape[-2]], self._sin[: q.shape[-2]]
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class RotaryAttentionBlock(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.rope = RotaryEmbedding(dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        q, k = self.rope(q, k)
        attn = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
        return x + self.out(attn @ v)


class SequenceTagger(pl.LightningModule):
    def __init__(self, vocab=20, dim=16, n_tags=3, lr=1e-2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.block = RotaryAttentionBlock(dim)
        self.tagger = nn.Linear(dim, n_tags)
        self.lr = lr

    def forward(self, tokens):
        return self.tagger(self.block(self.embed(tokens)))

    def training_step(self, batch, batch_idx):
        tokens, tags = batch
        loss = F.cross_entropy(self(tokens).flatten(0, 1), tags.flatten())
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        tokens, tags = batch
        acc = (self(tokens).argmax(-1) == tags).float().mean()
        self.log("val/acc", acc)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loaders(n=32, seq=6):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 20, (n, seq), generator=g)
    tags = tokens % 3
    ds = TensorDataset(tokens, tags)
    return DataLoader(ds, batch_size=8, shuffle=True, generator=g), DataLoader(ds, batch_size=16)


def main():
    pl.seed_everything(0)
    train_loader, val_loader = make_loaders()
    model = SequenceTagger()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    baseline = trainer.validate(model, val_loader)
    trainer.fit(model, train_loader, val_loader)
    return {"model": model}, {"baseline_logged": isinstance(baseline, list)}

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
