import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

MUSIC = {"n_pitches": 24, "n_durations": 6, "d_model": 32, "n_heads": 4, "n_layers": 2, "seq_len": 16,
         "lr": 2e-3, "epochs": 2}


class DecoderBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, causal):
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, attn_mask=causal, need_weights=False)
        x = x + a
        return x + self.ff(self.ln2(x))


def make_blocks(cfg):
    return [DecoderBlock(cfg["d_model"], cfg["n_heads"]) for _ in range(cfg["n_layers"])]


def encode_note(pitch, duration, n_durations):
    """One token per note: pitch-major, duration-minor (a compact REMI-like vocabulary)."""
    return pitch * n_durations + duration


class MusicBoxTransformer(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        vocab = cfg["n_pitches"] * cfg["n_durations"]
        self.tok = nn.Embedding(vocab, cfg["d_model"])
        self.pos = nn.Embedding(cfg["seq_len"], cfg["d_model"])
        self.blocks = tuple(make_blocks(cfg))
        self.ln_f = nn.LayerNorm(cfg["d_model"])
        self.head = nn.Linear(cfg["d_model"], vocab)

    def forward(self, tokens):
        L = tokens.size(1)
        causal = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        x = self.tok(tokens) + self.pos(torch.arange(L))
        for blk in self.blocks:
            x = blk(x, causal)
        return self.head(self.ln_f(x))

    def training_step(self, batch, batch_idx):
        (tokens,) = batch
        logits = self(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tokens[:, 1:].reshape(-1))
        self.log("train/nll", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg["lr"], weight_decay=0.01)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)}

    @torch.no_grad()
    def generate(self, prompt, steps):
        tokens = prompt
        for _ in range(steps):
            logits = self(tokens[:, -self.cfg["seq_len"]:])[:, -1]
            tokens = torch.cat([tokens, logits.argmax(-1, keepdim=True)], 1)
        return tokens


def scales_dataset(cfg, n=32):
    """Ascending / descending scale fragments with random rhythms."""
    g = torch.Generator().manual_seed(0)
    seqs = []
    for _ in range(n):
        start = int(torch.randint(0, cfg["n_pitches"] - cfg["seq_len"] // 2, (1,), generator=g))
        step = 1 if torch.rand(1, generator=g) < 0.5 else -1
        pitches = [(start + step * (k // 2)) % cfg["n_pitches"] for k in range(cfg["seq_len"] + 1)]
        durs = torch.randint(0, cfg["n_durations"], (cfg["seq_len"] + 1,), generator=g).tolist()
        seqs.append([encode_note(p, d, cfg["n_durations"]) for p, d in zip(pitches, durs)])
    return DataLoader(TensorDataset(torch.tensor(seqs)), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = MusicBoxTransformer(MUSIC)
    blk0 = model.blocks[0].ff[0].weight.detach().clone()
    head0 = model.head.weight.detach().clone()
    loader = scales_dataset(MUSIC)
    trainer = pl.Trainer(max_epochs=MUSIC["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    model.generate(next(iter(loader))[0][:1, :4], steps=4)
    return {"model": model, "block0": model.blocks[0]}, {
        "blocks_changed": not torch.equal(blk0, model.blocks[0].ff[0].weight),
        "head_changed": not torch.equal(head0, model.head.weight),
    }

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
