import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class StreamChunks(Dataset):
    """A token stream cut into (batch_size) parallel streams, served as consecutive bptt windows."""

    def __init__(self, tokens, batch_size=4, bptt=6):
        n = tokens.numel() // batch_size
        self.streams = tokens[: n * batch_size].view(batch_size, n)
        self.bptt = bptt

    def __len__(self):
        return (self.streams.size(1) - 1) // self.bptt

    def __getitem__(self, i):
        s = i * self.bptt
        return self.streams[:, s:s + self.bptt], self.streams[:, s + 1:s + 1 + self.bptt]


class RNNLanguageModel(pl.LightningModule):
    def __init__(self, vocab=30, emb=16, hidden=24, lr=2e-3, clip=0.25):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.encoder = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)
        self.hidden = None
        self.vocab, self.hidden_size, self.lr, self.clip = vocab, hidden, lr, clip

    def init_hidden(self, bsz):
        zeros = torch.zeros(1, bsz, self.hidden_size, device=self.device)
        return (zeros, zeros.clone())

    def detach_state(self):
        """Truncated BPTT: cut the carried state off from the previous window's graph."""
        for h in self.hidden:
            h.detach()

    def on_train_epoch_start(self):
        self.hidden = None

    def training_step(self, batch, batch_idx):
        x, y = batch[0][0], batch[1][0]
        opt = self.optimizers()
        if self.hidden is None:
            self.hidden = self.init_hidden(x.size(0))
        else:
            self.detach_state()
        out, self.hidden = self.rnn(self.encoder(x), self.hidden)
        loss = F.cross_entropy(self.decoder(out).reshape(-1, self.vocab), y.reshape(-1))
        opt.zero_grad()
        self.manual_backward(loss)
        nn.utils.clip_grad_norm_(self.parameters(), self.clip)
        opt.step()
        self.log("train/ppl", loss.exp())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(1)
    tokens = torch.randint(0, 30, (4 * 40,), generator=torch.Generator().manual_seed(1))
    loader = DataLoader(StreamChunks(tokens), batch_size=1, shuffle=False)
    model = RNNLanguageModel()
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
