import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SelfAttentionClassifier(nn.Module):
    def __init__(self, vocab=40, dim=24, n_cls=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, n_cls)

    def forward(self, tokens):
        h = self.emb(tokens)
        att = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / math.sqrt(h.size(-1)), dim=-1)
        return self.out((att @ self.v(h)).mean(1))


class RunningMeter:
    def __init__(self):
        self.loss_sum, self.correct, self.count = 0.0, 0, 0

    def update(self, loss, logits, y):
        self.loss_sum += loss.detach() * y.size(0)
        self.correct += (logits.detach().argmax(-1) == y).sum().item()
        self.count += y.size(0)

    def summary(self):
        return {"loss": float(self.loss_sum) / self.count, "acc": self.correct / self.count}


def train_epoch(accelerator, model, optimizer, loader, meter):
    model.train()
    for tokens, y in loader:
        with accelerator.accumulate(model):
            logits = model(tokens)
            loss = F.cross_entropy(logits, y)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        meter.update(loss, logits, y)
    return meter.summary()


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    g = torch.Generator().manual_seed(12)
    tokens = torch.randint(0, 40, (32, 10), generator=g)
    data = TensorDataset(tokens, (tokens[:, 0] % 3))
    model = SelfAttentionClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, DataLoader(data, batch_size=8, shuffle=True))
    q0 = model.q.weight.detach().clone()
    history = [train_epoch(accelerator, model, optimizer, loader, RunningMeter()) for _ in range(2)]
    last = history[-1]
    tokens_b, y_b = next(iter(loader))
    loss = F.cross_entropy(model(tokens_b), y_b)
    loss.backward()
    return {"model": model}, {"q_changed": not torch.equal(q0, model.q.weight),
                              "logged_loss_is_float": isinstance(last["loss"], float)}

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
