import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS = 0, 1


class Encoder(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=PAD)
        self.rnn = nn.GRU(dim, dim, batch_first=True)

    def forward(self, src):
        out, h = self.rnn(self.embed(src))
        return out, h


class Decoder(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=PAD)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.out = nn.Linear(2 * dim, vocab)

    def forward(self, tgt_in, enc_out, h):
        dec, _ = self.rnn(self.embed(tgt_in), h)
        attn = torch.softmax(dec @ enc_out.transpose(1, 2), dim=-1)
        return self.out(torch.cat([dec, attn @ enc_out], dim=-1))


class Seq2Seq(nn.Module):
    def __init__(self, vocab=40, dim=24):
        super().__init__()
        self.encoder, self.decoder = Encoder(vocab, dim), Decoder(vocab, dim)

    def forward(self, src, tgt_in):
        enc_out, h = self.encoder(src)
        return self.decoder(tgt_in, enc_out, h)


def prepare_batch(src, tgt, volatile=False):
    """Build decoder inputs; validation batches are volatile (no graph needed)."""
    if volatile:
        torch.set_grad_enabled(False)
    tgt_in = torch.cat([torch.full((tgt.size(0), 1), BOS), tgt[:, :-1]], dim=1)
    return src, tgt_in, tgt


def evaluate(model, batches):
    model.eval()
    total = 0.0
    for src, tgt in batches:
        src, tgt_in, tgt_out = prepare_batch(src, tgt, volatile=True)
        logits = model(src, tgt_in)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1), ignore_index=PAD).item()
    model.train()
    return total / len(batches)


def train(model, train_batches, valid_batches, optimizer, epochs=1):
    history = {"valid_loss": [evaluate(model, valid_batches)]}  # sanity check before the first update
    for _ in range(epochs):
        for src, tgt in train_batches:
            src, tgt_in, tgt_out = prepare_batch(src, tgt)
            logits = model(src, tgt_in)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1), ignore_index=PAD)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        history["valid_loss"].append(evaluate(model, valid_batches))
    return history


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    make = lambda n: [(torch.randint(2, 40, (8, 9), generator=g), torch.randint(2, 40, (8, 7), generator=g))
                      for _ in range(n)]
    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, make(4), make(2), optimizer)
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
