import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

PAD = 0


class MaskedSelfAttention(nn.Module):
    def __init__(self, d=32, heads=4, dropout=0.0):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.heads = heads
        self.drop = nn.Dropout(dropout)

    def forward(self, x, key_padding):
        b, t, d = x.shape
        split = lambda z: z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        attn = (q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)).softmax(dim=-1)
        attn.masked_fill_(key_padding[:, None, None, :], 0.0)
        attn = self.drop(attn)
        return self.o((attn @ v).transpose(1, 2).reshape(b, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, d=32, heads=4):
        super().__init__()
        self.attn = MaskedSelfAttention(d, heads)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 64), nn.GELU(), nn.Linear(64, d))

    def forward(self, x, key_padding):
        x = x + self.attn(self.ln1(x), key_padding)
        return x + self.ff(self.ln2(x))


class IntentClassifier(nn.Module):
    def __init__(self, vocab=40, d=32, n_intents=5, max_len=12):
        super().__init__()
        self.tok = nn.Embedding(vocab, d, padding_idx=PAD)
        self.pos = nn.Embedding(max_len, d)
        self.layer = EncoderLayer(d)
        self.cls = nn.Linear(d, n_intents)

    def forward(self, ids):
        pad = ids == PAD
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        x = self.layer(x, pad)
        keep = (~pad).unsqueeze(-1).float()
        return self.cls((x * keep).sum(1) / keep.sum(1).clamp(min=1.0))


def make_data(n=48, max_len=12, vocab=40):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, vocab, (n, max_len), generator=g)
    lengths = torch.randint(4, max_len + 1, (n,), generator=g)
    ids[torch.arange(max_len)[None, :] >= lengths[:, None]] = PAD
    return ids, ids[:, 0] % 5


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for ids, y in loader:
            loss = F.cross_entropy(model(ids), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    ids, y = make_data()
    loader = DataLoader(TensorDataset(ids, y), batch_size=16, shuffle=True)
    model = IntentClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
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
