import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CharRNN(nn.Module):
    def __init__(self, vocab=20, hidden=32, n_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.RNN(hidden, hidden, n_layers, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)
        self.hidden_dim, self.n_layers = hidden, n_layers
        self.hidden = None

    def init_hidden(self, batch_size):
        return torch.zeros(self.n_layers, batch_size, self.hidden_dim)

    def forward(self, x):
        if self.hidden is None or self.hidden.size(1) != x.size(0):
            self.hidden = self.init_hidden(x.size(0))
        out, self.hidden = self.rnn(self.embed(x), self.hidden)  # carry context to the next batch
        return self.fc(out)


class NextCharModel(pl.LightningModule):
    def __init__(self, lr=1e-2):
        super().__init__()
        self.model = CharRNN()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        self.log("loss", loss)
        return loss

    def on_train_epoch_start(self):
        self.model.hidden = None

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_stream(n_chunks=6, batch=4, length=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    text = torch.randint(0, 20, (batch, n_chunks * length + 1), generator=g)
    xs = [text[:, i * length:(i + 1) * length] for i in range(n_chunks)]
    ys = [text[:, i * length + 1:(i + 1) * length + 1] for i in range(n_chunks)]
    return torch.cat(xs), torch.cat(ys)


def main():
    pl.seed_everything(0)
    x, y = make_stream()
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False)  # keep the chunks in order
    model = NextCharModel()
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
