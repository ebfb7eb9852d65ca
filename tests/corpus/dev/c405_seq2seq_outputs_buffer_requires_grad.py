import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

PAD, BOS = 0, 1


class Encoder(nn.Module):
    def __init__(self, vocab, emb=16, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)

    def forward(self, src):
        _, h = self.rnn(self.embed(src))
        return h


class Decoder(nn.Module):
    def __init__(self, vocab, emb=16, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.cell = nn.GRUCell(emb, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, token, h):
        h = self.cell(self.embed(token), h)
        return self.out(h), h


class Seq2Seq(nn.Module):
    def __init__(self, vocab=20):
        super().__init__()
        self.vocab = vocab
        self.encoder = Encoder(vocab)
        self.decoder = Decoder(vocab)

    def forward(self, src, tgt, teacher_forcing_ratio=0.5, generator=None):
        batch, steps = tgt.shape
        outputs = torch.zeros(batch, steps, self.vocab, requires_grad=True)
        h = self.encoder(src)[0]
        token = tgt[:, 0]
        for t in range(1, steps):
            logits, h = self.decoder(token, h)
            outputs[:, t] = logits
            teacher = torch.rand((), generator=generator) < teacher_forcing_ratio
            token = tgt[:, t] if teacher else logits.argmax(-1)
        return outputs


def make_loader(n=48, length=6, vocab=20):
    g = torch.Generator().manual_seed(0)
    src = torch.randint(2, vocab, (n, length), generator=g)
    tgt = torch.cat([torch.full((n, 1), BOS), src.flip(1)], dim=1)
    return DataLoader(TensorDataset(src, tgt), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        for src, tgt in loader:
            outputs = model(src, tgt, generator=g)
            loss = F.cross_entropy(outputs[:, 1:].reshape(-1, model.vocab), tgt[:, 1:].reshape(-1), ignore_index=PAD)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, make_loader(), optimizer)
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
