import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def batchify(stream, batch_size, bptt):
    n = (stream.numel() - 1) // (batch_size * bptt) * batch_size * bptt
    data = stream[:n].view(batch_size, -1)
    target = stream[1:n + 1].view(batch_size, -1)
    xs = data.split(bptt, dim=1)
    ys = target.split(bptt, dim=1)
    return TensorDataset(torch.stack(xs), torch.stack(ys))


class LSTMLanguageModel(pl.LightningModule):
    def __init__(self, vocab=40, emb=16, hidden=32, lr=3e-3):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)
        self.hidden_size, self.lr = hidden, lr
        self.hiddens = None

    def init_hidden(self, batch_size):
        z = torch.zeros(2, batch_size, self.hidden_size)
        return (z, z.clone())

    def on_train_epoch_start(self):
        self.hiddens = None

    def training_step(self, batch, batch_idx):
        x, y = batch[0][0], batch[1][0]
        if self.hiddens is None:
            self.hiddens = self.init_hidden(x.size(0))
        out, hiddens = self.lstm(self.embed(x), self.hiddens)
        self.hiddens = hiddens
        logits = self.decoder(out)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        self.log("ppl", torch.exp(loss.detach()))
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    stream = torch.randint(0, 40, (4 * 5 * 6 + 1,))
    loader = DataLoader(batchify(stream, batch_size=4, bptt=5), batch_size=1, shuffle=False)
    model = LSTMLanguageModel()
    pl.Trainer(max_epochs=1, gradient_clip_val=0.25, logger=False, enable_checkpointing=False).fit(model, loader)
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
