import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CharLSTM(nn.Module):
    def __init__(self, vocab=20, emb=8, hidden=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens, hidden):
        out, (h, c) = self.lstm(self.embed(tokens), (hidden[0], hidden[1]))
        return self.decoder(out), torch.stack([h, c])


class TBPTTTrainer:
    def __init__(self, model, bptt=5, lr=5e-3):
        self.model = model
        self.bptt = bptt
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.hidden = None

    def init_hidden(self, batch):
        return torch.zeros(2, 1, batch, self.model.lstm.hidden_size)

    def repackage_hidden(self):
        self.hidden[0].detach_()
        self.hidden[1].detach_()

    def train_stream(self, stream):
        self.hidden = self.init_hidden(stream.shape[0])
        for i in range(0, stream.shape[1] - 1, self.bptt):
            inp, tgt = stream[:, i:i + self.bptt], stream[:, i + 1:i + 1 + self.bptt]
            inp = inp[:, :tgt.shape[1]]
            logits, self.hidden = self.model(inp, self.hidden)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.repackage_hidden()


def main():
    torch.manual_seed(0)
    text = torch.arange(64) % 20
    streams = DataLoader(TensorDataset(torch.stack([text.roll(k) for k in range(4)])), batch_size=4)
    trainer = TBPTTTrainer(CharLSTM())
    for (batch,) in streams:
        trainer.train_stream(batch)
    return {"model": trainer.model}

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
