import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_stream_batches(text_ids, batch_size, seq_len):
    """Cut one long token stream into batch_size parallel streams, then into (x, y) windows of seq_len."""
    n = (len(text_ids) - 1) // (batch_size * seq_len) * (batch_size * seq_len)
    x = text_ids[:n].view(batch_size, -1)
    y = text_ids[1:n + 1].view(batch_size, -1)
    xs = x.split(seq_len, dim=1)
    ys = y.split(seq_len, dim=1)
    return torch.stack(xs), torch.stack(ys)


class StatefulCharLM(pl.LightningModule):
    def __init__(self, vocab=24, emb=16, hidden=32, tbptt_steps=5, lr=3e-3):
        super().__init__()
        self.automatic_optimization = False
        self.tbptt_steps = tbptt_steps
        self.lr = lr
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True)
        self.dropout = nn.Dropout(0.1)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x, hiddens=None):
        out, hiddens = self.rnn(self.embedding(x), hiddens)
        return self.decoder(self.dropout(out)), hiddens

    def training_step(self, batch, batch_idx):
        x, y = batch[0][0], batch[1][0]
        opt = self.optimizers()
        hiddens = None
        for x_split, y_split in zip(x.split(self.tbptt_steps, dim=1), y.split(self.tbptt_steps, dim=1)):
            logits, hiddens = self(x_split, hiddens)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y_split.reshape(-1))
            opt.zero_grad()
            self.manual_backward(loss)
            torch.nn.utils.clip_grad_norm_(self.parameters(), 0.5)
            opt.step()
            hiddens = tuple(h.detach() for h in hiddens)
            self.log("train_loss", loss.item(), prog_bar=True)
        return None

    def on_train_epoch_end(self):
        sch = self.lr_schedulers()
        if sch is not None:
            sch.step()

    def validation_step(self, batch, batch_idx):
        x, y = batch[0][0], batch[1][0]
        logits, _ = self(x)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.log("val_ppl", math.exp(nll.item()))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


def main():
    pl.seed_everything(0)
    stream = torch.randint(0, 24, (8 * 20 * 4 + 1,))
    xs, ys = make_stream_batches(stream, batch_size=8, seq_len=20)
    train_loader = DataLoader(TensorDataset(xs[:3], ys[:3]), batch_size=1)
    val_loader = DataLoader(TensorDataset(xs[3:], ys[3:]), batch_size=1)
    model = StatefulCharLM()
    lstm0 = model.rnn.weight_hh_l0.detach().clone()
    emb0 = model.embedding.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, enable_checkpointing=False, logger=False)
    trainer.fit(model, train_loader, val_loader)
    return ({"model": model},
            {"lstm_changed": not torch.equal(lstm0, model.rnn.weight_hh_l0),
             "embedding_changed": not torch.equal(emb0, model.embedding.weight)})

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
