import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class StreamDataset(Dataset):
    """Consecutive windows of one long token stream (shuffle=False keeps the order)."""

    def __init__(self, n_windows=6, window=10, vocab=30):
        g = torch.Generator().manual_seed(0)
        self.stream = torch.randint(0, vocab, (n_windows * window + 1,), generator=g)
        self.window = window

    def __len__(self):
        return (len(self.stream) - 1) // self.window

    def __getitem__(self, i):
        s = i * self.window
        return self.stream[s:s + self.window], self.stream[s + 1:s + self.window + 1]


class CharLSTM(pl.LightningModule):
    def __init__(self, vocab=30, dim=16, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)
        self.hidden = None

    def on_train_epoch_start(self):
        self.hidden = None

    def forward(self, x, hidden=None):
        out, new_hidden = self.lstm(self.embed(x), hidden)
        return self.decoder(out), new_hidden

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits, new_hidden = self(x, self.hidden)
        self.hidden = new_hidden
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.log("train_ppl", loss.exp().item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=3e-3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.95),
                                                   "interval": "epoch"}}


def perplexity(model, loader):
    model.eval()
    total, count, hidden = 0.0, 0, None
    with torch.no_grad():
        for x, y in loader:
            logits, hidden = model(x, hidden)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    return float(torch.tensor(total / max(count, 1)).exp())


def main():
    pl.seed_everything(0)
    model = CharLSTM()
    loader = DataLoader(StreamDataset(), batch_size=2, shuffle=False)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, gradient_clip_val=1.0).fit(model, loader)
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
