import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


def load_glove_like(vocab_size=40, dim=8, seed=0):
    """Stands in for reading glove.6B.50d.txt into a float64 NumPy matrix."""
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.3, size=(vocab_size, dim))


class GatedAttentionReader(nn.Module):
    """Multiple-choice reader: passage and question GRUs, question-gated passage, option scoring."""

    def __init__(self, glove, hidden=8):
        super().__init__()
        self.word_vectors = torch.tensor(glove, requires_grad=True).float()
        dim = self.word_vectors.shape[1]
        self.passage_rnn = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
        self.question_rnn = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
        self.option_proj = nn.Linear(dim, 2 * hidden)

    def embed(self, ids):
        return F.embedding(ids, self.word_vectors)

    def forward(self, passage, question, options):
        p, _ = self.passage_rnn(self.embed(passage))
        q, _ = self.question_rnn(self.embed(question))
        attn = torch.softmax(p @ q.transpose(1, 2), dim=-1)
        gated = p * (attn @ q)
        summary = gated.max(dim=1).values
        opts = self.option_proj(self.embed(options).mean(2))
        return (opts * summary[:, None]).sum(-1)


def build_optimizer(model, lr=3e-3, embed_lr=1e-3):
    return torch.optim.Adam([
        {"params": [p for n, p in model.named_parameters() if not n.startswith("word_vectors")], "lr": lr},
        {"params": [model.word_vectors], "lr": embed_lr},
    ])


def make_batch(n=8, p_len=10, q_len=4, n_opts=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    passage = torch.randint(0, 40, (n, p_len), generator=g)
    question = torch.randint(0, 40, (n, q_len), generator=g)
    options = torch.randint(0, 40, (n, n_opts, 2), generator=g)
    answer = torch.randint(0, n_opts, (n,), generator=g)
    return passage, question, options, answer


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = GatedAttentionReader(load_glove_like())
    vectors_before = model.word_vectors.detach().clone()
    optimizer = build_optimizer(model)
    model, optimizer = fabric.setup(model, optimizer)
    for step in range(3):
        passage, question, options, answer = make_batch(seed=step)
        loss = F.cross_entropy(model(passage, question, options), answer)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}, {"word_vectors_changed": not torch.equal(vectors_before, model.word_vectors)}

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
