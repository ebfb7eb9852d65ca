import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AdditiveAttention(nn.Module):
    def __init__(self, hidden, attn_dim=16, dropout=0.1):
        super().__init__()
        self.W_q = nn.Linear(hidden, attn_dim, bias=False)
        self.W_k = nn.Linear(hidden, attn_dim)
        self.v = nn.Linear(attn_dim, 1, bias=False)
        self.energy_dropout = nn.Dropout(dropout, inplace=True)

    def forward(self, query, keys):
        energy = torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))
        energy = self.energy_dropout(energy)
        weights = torch.softmax(self.v(energy).squeeze(-1), dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)


class Seq2SeqAttn(pl.LightningModule):
    def __init__(self, src_vocab=30, tgt_vocab=24, emb=12, hidden=16):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, emb)
        self.tgt_embed = nn.Embedding(tgt_vocab, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.attention = AdditiveAttention(hidden)
        self.decoder = nn.GRUCell(emb + hidden, hidden)
        self.out = nn.Linear(2 * hidden, tgt_vocab)

    def forward(self, src, tgt_in):
        keys, h = self.encoder(self.src_embed(src))
        h = h.squeeze(0)
        logits = []
        for t in range(tgt_in.size(1)):
            context = self.attention(h, keys)
            h = self.decoder(torch.cat([self.tgt_embed(tgt_in[:, t]), context], dim=-1), h)
            logits.append(self.out(torch.cat([h, context], dim=-1)))
        return torch.stack(logits, dim=1)

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        logits = self(src, tgt[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=3e-3)


def make_loader():
    g = torch.Generator().manual_seed(3)
    src = torch.randint(1, 30, (32, 7), generator=g)
    tgt = torch.cat([torch.zeros(32, 1, dtype=torch.long), src[:, :5] % 24], dim=1)
    return DataLoader(TensorDataset(src, tgt), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = Seq2SeqAttn()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
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
