import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

VOCAB, PAD, BOS = 40, 0, 1


class Encoder(nn.Module):
    def __init__(self, dim=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim, padding_idx=PAD)
        layer = nn.TransformerEncoderLayer(dim, 4, dim * 2, dropout=0.0, batch_first=True)
        self.stack = nn.TransformerEncoder(layer, layers)

    def forward(self, src):
        return self.stack(self.embed(src), src_key_padding_mask=src.eq(PAD))


class Decoder(nn.Module):
    def __init__(self, dim=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim, padding_idx=PAD)
        layer = nn.TransformerDecoderLayer(dim, 4, dim * 2, dropout=0.0, batch_first=True)
        self.stack = nn.TransformerDecoder(layer, layers)
        self.proj = nn.Linear(dim, VOCAB)

    def forward(self, tgt_in, memory, memory_mask):
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.size(1))
        h = self.stack(self.embed(tgt_in), memory, tgt_mask=causal, memory_key_padding_mask=memory_mask)
        return self.proj(h)


class Translator(pl.LightningModule):
    def __init__(self, lr=1e-3, label_smoothing=0.1):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.lr, self.ls = lr, label_smoothing

    def encode(self, src):
        # memory is reused by every decoding step of beam search, keep it light
        memory = self.encoder(src)
        return memory.detach(), src.eq(PAD)

    def forward(self, src, tgt_in):
        memory, mask = self.encode(src)
        return self.decoder(tgt_in, memory, mask)

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
        logits = self(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1),
                               ignore_index=PAD, label_smoothing=self.ls)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        src, tgt = batch
        logits = self(src, tgt[:, :-1])
        self.log("val/loss", F.cross_entropy(logits.reshape(-1, VOCAB), tgt[:, 1:].reshape(-1), ignore_index=PAD))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, betas=(0.9, 0.98))
        warm = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": warm, "interval": "step"}}


def toy_pairs(n=24, src_len=9, tgt_len=8):
    g = torch.Generator().manual_seed(3)
    src = torch.randint(2, VOCAB, (n, src_len), generator=g)
    src[:, -2:] = PAD
    tgt = torch.cat([torch.full((n, 1), BOS), src[:, :tgt_len - 1].flip(1)], dim=1)
    return TensorDataset(src, tgt)


def main():
    pl.seed_everything(0)
    model = Translator()
    ds = toy_pairs()
    enc0 = model.encoder.embed.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, limit_val_batches=1)
    trainer.fit(model, DataLoader(ds, batch_size=8, shuffle=True), DataLoader(ds, batch_size=8))
    facts = {"encoder_changed": not torch.equal(enc0, model.encoder.embed.weight)}
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
