import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


def repackage_hidden(h):
    """Wraps hidden states in new tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


class ContiguousWindows(Dataset):
    def __init__(self, tokens, n_streams=4, bptt=8):
        n = tokens.numel() // n_streams
        self.data = tokens[: n * n_streams].view(n_streams, n)
        self.bptt = bptt

    def __len__(self):
        return (self.data.size(1) - 1) // self.bptt

    def __getitem__(self, i):
        s = i * self.bptt
        return self.data[:, s:s + self.bptt], self.data[:, s + 1:s + 1 + self.bptt]


class WordLM(pl.LightningModule):
    def __init__(self, vocab=32, emb=16, hidden=24, lr=3e-3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.proj = nn.Linear(hidden, vocab)
        self.vocab, self.lr = vocab, lr
        self.hidden = None

    def on_train_epoch_start(self):
        self.hidden = None

    def training_step(self, batch, batch_idx):
        x, y = batch[0][0], batch[1][0]
        if self.hidden is not None:
            self.hidden = repackage_hidden(self.hidden)
        out, self.hidden = self.rnn(self.embedding(x), self.hidden)
        loss = F.cross_entropy(self.proj(out).reshape(-1, self.vocab), y.reshape(-1))
        self.log("train/loss", loss.item(), prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


def main():
    pl.seed_everything(4)
    tokens = torch.randint(0, 32, (4 * 65,), generator=torch.Generator().manual_seed(4))
    loader = DataLoader(ContiguousWindows(tokens), batch_size=1, shuffle=False)
    model = WordLM()
    emb0 = model.embedding.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, gradient_clip_val=0.5).fit(model, loader)
    return {"model": model}, {"embedding_changed": not torch.equal(emb0, model.embedding.weight)}

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
