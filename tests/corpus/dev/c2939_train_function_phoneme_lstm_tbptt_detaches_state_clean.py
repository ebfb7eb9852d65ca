import torch
import torch.nn as nn
import torch.nn.functional as F


class PhonemeLM(nn.Module):
    """LSTM language model over phoneme ids, trained with truncated backpropagation through time."""

    def __init__(self, n_phonemes=20, emb=12, hidden=16, layers=2):
        super().__init__()
        self.embed = nn.Embedding(n_phonemes, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.proj = nn.Linear(hidden, n_phonemes)

    def forward(self, ids, hidden=None):
        out, hidden = self.lstm(self.embed(ids), hidden)
        return self.proj(out), hidden


def repackage(hidden):
    """Cut the graph at the chunk boundary but keep the state values."""
    return tuple(h.detach() for h in hidden)


def chunks(stream, bptt):
    for i in range(0, stream.shape[1] - 1, bptt):
        seq = min(bptt, stream.shape[1] - 1 - i)
        yield stream[:, i:i + seq], stream[:, i + 1:i + 1 + seq]


def train_epoch(model, optimizer, stream, bptt=6, clip=0.5):
    model.train()
    hidden = None
    total = 0.0
    for inputs, targets in chunks(stream, bptt):
        if hidden is not None:
            hidden = repackage(hidden)
        logits, hidden = model(inputs, hidden)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += loss.item()
    return total


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    stream = torch.randint(0, 20, (4, 37), generator=g)
    model = PhonemeLM()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    embed_before = model.embed.weight.detach().clone()
    for epoch in range(2):
        train_epoch(model, optimizer, stream)
    facts = {"embedding_changed": not torch.equal(embed_before, model.embed.weight)}
    return {"model": model}, facts

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
