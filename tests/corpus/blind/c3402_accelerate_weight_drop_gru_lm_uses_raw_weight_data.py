import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class WeightDropLinear(nn.Module):
    """DropConnect on a projection: a raw weight is kept, a dropped copy is used in forward."""

    def __init__(self, in_features, out_features, weight_p=0.3):
        super().__init__()
        self.weight_raw = nn.Parameter(torch.randn(out_features, in_features) * in_features ** -0.5)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.weight_p = weight_p

    def _dropped_weight(self):
        return F.dropout(self.weight_raw.data, p=self.weight_p, training=self.training)

    def forward(self, x):
        return F.linear(x, self._dropped_weight(), self.bias)


class RecurrentLM(nn.Module):
    def __init__(self, vocab=50, emb=24, hidden=32):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.cell = nn.GRUCell(emb, hidden)
        self.hidden_proj = WeightDropLinear(hidden, hidden)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        h = tokens.new_zeros(tokens.size(0), self.cell.hidden_size, dtype=torch.float)
        outs = []
        for t in range(tokens.size(1)):
            h = self.cell(self.embedding(tokens[:, t]), h)
            outs.append(self.decoder(torch.tanh(self.hidden_proj(h))))
        return torch.stack(outs, dim=1)


def lm_batches(n=24, seq=9):
    g = torch.Generator().manual_seed(21)
    seqs = torch.randint(0, 50, (n, seq), generator=g)
    return TensorDataset(seqs[:, :-1], seqs[:, 1:])


def train(accelerator, model, optimizer, scheduler, loader, epochs=1):
    model.train()
    for _ in range(epochs):
        for inp, tgt in loader:
            logits = model(inp)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = RecurrentLM()
    optimizer = torch.optim.ASGD(model.parameters(), lr=1.0, t0=0, weight_decay=1.2e-6)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    loader = DataLoader(lm_batches(), batch_size=8, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    raw0 = model.hidden_proj.weight_raw.detach().clone()
    train(accelerator, model, optimizer, scheduler, loader)
    return {"model": model}, {"raw_weight_changed": not torch.equal(raw0, model.hidden_proj.weight_raw)}

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
