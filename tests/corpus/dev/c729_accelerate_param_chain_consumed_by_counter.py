import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Seq2SeqTagger(nn.Module):
    def __init__(self, vocab=100, dim=32, n_tags=7):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.decoder = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, n_tags))

    def forward(self, tokens):
        h, _ = self.encoder(self.embed(tokens))
        return self.decoder(h)


def trainable_parameters(model):
    """Encoder + decoder; the embedding table is loaded from word vectors and kept fixed."""
    model.embed.weight.requires_grad_(False)
    return itertools.chain(model.encoder.parameters(), model.decoder.parameters())


def log_param_count(accelerator, params):
    n = sum(p.numel() for p in params if p.requires_grad)
    accelerator.print(f"trainable parameters: {n:,}")
    return n


def make_loader(n=64, seq=9, vocab=100, n_tags=7):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab, (n, seq), generator=g)
    tags = tokens % n_tags
    return DataLoader(TensorDataset(tokens, tags), batch_size=16, shuffle=True, generator=g)


def train(accelerator, model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for tokens, tags in loader:
            with accelerator.accumulate(model):
                logits = model(tokens)
                loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tags.reshape(-1))
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = Seq2SeqTagger()
    params = trainable_parameters(model)
    log_param_count(accelerator, params)
    optimizer = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.01)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    train(accelerator, model, loader, optimizer)
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
