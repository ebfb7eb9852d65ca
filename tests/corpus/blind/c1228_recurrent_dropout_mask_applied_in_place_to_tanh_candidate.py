import torch
import torch.nn as nn
import torch.nn.functional as F


class RecurrentDropoutLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, p=0.25):
        super().__init__()
        self.hidden_size, self.p = hidden_size, p
        self.ih = nn.Linear(input_size, 4 * hidden_size)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size)
        self.mask = None

    def reset_mask(self, batch_size):
        keep = torch.bernoulli(torch.full((batch_size, self.hidden_size), 1 - self.p))
        self.mask = keep / (1 - self.p)

    def forward(self, x, state):
        h, c = state
        i, f, g_raw, o = (self.ih(x) + self.hh(h)).chunk(4, dim=1)
        g = torch.tanh(g_raw)
        if self.training:
            g.mul_(self.mask)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * g
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class CharLM(nn.Module):
    def __init__(self, vocab=30, emb=12, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.cell = RecurrentDropoutLSTMCell(emb, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        b, t = tokens.shape
        h = c = torch.zeros(b, self.cell.hidden_size)
        self.cell.reset_mask(b)
        logits = []
        for step in range(t):
            h, c = self.cell(self.embed(tokens[:, step]), (h, c))
            logits.append(self.out(h))
        return torch.stack(logits, 1)


def train(model, batches, optimizer):
    model.train()
    for seq in batches:
        optimizer.zero_grad()
        logits = model(seq[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), seq[:, 1:].reshape(-1))
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    batches = [torch.randint(0, 30, (4, 9), generator=g) for _ in range(3)]
    model = CharLM()
    train(model, batches, torch.optim.Adam(model.parameters(), lr=1e-3))
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
