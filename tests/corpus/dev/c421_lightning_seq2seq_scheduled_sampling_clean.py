import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

BOS = 1


class Seq2SeqLM(pl.LightningModule):
    def __init__(self, vocab=16, emb=16, hidden=32, tf_start=1.0, tf_decay=0.3):
        super().__init__()
        self.vocab = vocab
        self.src_embed = nn.Embedding(vocab, emb)
        self.tgt_embed = nn.Embedding(vocab, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.cell = nn.GRUCell(emb, hidden)
        self.out = nn.Linear(hidden, vocab)
        self.tf_start, self.tf_decay = tf_start, tf_decay
        self.gen = torch.Generator().manual_seed(0)

    def teacher_forcing_ratio(self):
        return max(0.0, self.tf_start - self.tf_decay * self.current_epoch)

    def decode(self, src, tgt, tf_ratio):
        _, h = self.encoder(self.src_embed(src))
        h = h[0]
        token = tgt[:, 0]
        step_logits = []
        for t in range(1, tgt.size(1)):
            h = self.cell(self.tgt_embed(token), h)
            logits = self.out(h)
            step_logits.append(logits)
            use_teacher = torch.rand((), generator=self.gen).item() < tf_ratio
            token = tgt[:, t] if use_teacher else logits.argmax(-1)
        return torch.stack(step_logits, dim=1)

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        logits = self.decode(src, tgt, self.teacher_forcing_ratio())
        loss = F.cross_entropy(logits.reshape(-1, self.vocab), tgt[:, 1:].reshape(-1))
        self.log("train_loss", loss.detach())
        return loss

    def validation_step(self, batch, batch_idx):
        src, tgt = batch
        logits = self.decode(src, tgt, tf_ratio=0.0)
        acc = (logits.argmax(-1) == tgt[:, 1:]).float().mean()
        self.log("val_acc", acc.item())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=3e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)}


def make_loader(n=64, length=5, vocab=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(2, vocab, (n, length), generator=g)
    tgt = torch.cat([torch.full((n, 1), BOS), src.flip(1)], dim=1)
    return DataLoader(TensorDataset(src, tgt), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = Seq2SeqLM()
    before = model.out.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3)
    trainer.fit(model, make_loader(), make_loader(seed=1))
    return {"model": model}, {"decoder_changed": not torch.equal(before, model.out.weight.detach())}

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
