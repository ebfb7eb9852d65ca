import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class ContiguousStream(Dataset):
    """The whole corpus as one long stream cut into `bptt`-long chunks, one column per batch lane."""

    def __init__(self, tokens, n_lanes=4, bptt=6):
        usable = (len(tokens) // n_lanes) * n_lanes
        self.lanes = tokens[:usable].view(n_lanes, -1)
        self.bptt = bptt

    def __len__(self):
        return (self.lanes.size(1) - 1) // self.bptt

    def __getitem__(self, i):
        s = i * self.bptt
        return self.lanes[:, s:s + self.bptt], self.lanes[:, s + 1:s + 1 + self.bptt]


def repackage_hidden(h):
    """Keep the state values, drop the history (truncated BPTT)."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


class WordLM(pl.LightningModule):
    def __init__(self, vocab=50, dim=16, lr=2e-3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, dim, num_layers=2, batch_first=True, dropout=0.1)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.embed.weight  # weight tying
        self.hidden = None
        self.lr = lr

    def on_train_epoch_start(self):
        self.hidden = None

    def training_step(self, batch, batch_idx):
        x, y = batch
        x, y = x.squeeze(0), y.squeeze(0)
        if self.hidden is not None:
            self.hidden = repackage_hidden(self.hidden)
        out, self.hidden = self.rnn(self.embed(x), self.hidden)
        logits = self.decoder(out)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        self.log("train/ppl", loss.detach().exp())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    tokens = torch.randint(0, 50, (200,))
    loader = DataLoader(ContiguousStream(tokens), batch_size=1, shuffle=False)
    model = WordLM()
    r0 = model.rnn.weight_ih_l0.detach().clone()
    pl.Trainer(max_epochs=2, gradient_clip_val=0.25, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"rnn_changed": not torch.equal(r0, model.rnn.weight_ih_l0)}

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
