import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLanguageModel(nn.Module):
    def __init__(self, vocab=30, emb=12, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)
        self.hidden = hidden

    def init_hidden(self, batch):
        z = torch.zeros(1, batch, self.hidden)
        return z, z.clone()

    def forward(self, ids, state):
        out, state = self.rnn(self.embed(ids), state)
        return self.decoder(out), state


def repackage_hidden(state):
    """Keep the values of the LSTM state, drop its history (truncated BPTT)."""
    return tuple(s.detach() for s in state)


def batchify(stream, batch):
    n = stream.numel() // batch
    return stream[: n * batch].view(batch, n)


def train_epoch(model, data, optimizer, bptt=8, clip=0.25):
    model.train()
    state = model.init_hidden(data.shape[0])
    total = 0.0
    for i in range(0, data.shape[1] - 1, bptt):
        seq_len = min(bptt, data.shape[1] - 1 - i)
        inputs, targets = data[:, i:i + seq_len], data[:, i + 1:i + 1 + seq_len]
        state = repackage_hidden(state)
        logits, state = model(inputs, state)
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
    data = batchify(torch.randint(0, 30, (400,), generator=g), batch=4)
    model = CharLanguageModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    w0 = model.rnn.weight_hh_l0.detach().clone()
    for epoch in range(2):
        train_epoch(model, data, optimizer)
        scheduler.step()
    return {"model": model}, {"recurrent_weights_changed": not torch.equal(w0, model.rnn.weight_hh_l0)}

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
