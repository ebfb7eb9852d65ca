import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

TASKS = {"sentiment": 3, "topic": 6, "toxicity": 2}


class SharedTrunk(nn.Module):
    def __init__(self, vocab=200, dim=32):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim))

    def forward(self, tokens):
        return self.proj(self.embed(tokens))


class MultiTaskModel(nn.Module):
    def __init__(self, tasks, vocab=200, dim=32):
        super().__init__()
        self.trunk = SharedTrunk(vocab, dim)
        self.heads = {}
        for name, n_out in tasks.items():
            self.heads[name] = nn.Linear(dim, n_out)

    def forward(self, tokens):
        h = self.trunk(tokens)
        return {name: head(h) for name, head in self.heads.items()}


def make_loader(n=96, seq=10, vocab=200):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab, (n, seq), generator=g)
    labels = [torch.randint(0, k, (n,), generator=g) for k in TASKS.values()]
    return DataLoader(TensorDataset(tokens, *labels), batch_size=16, shuffle=True, generator=g)


def train(accelerator, model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for tokens, *labels in loader:
            optimizer.zero_grad()
            outputs = model(tokens)
            loss = sum(F.cross_entropy(outputs[name], y) for name, y in zip(TASKS, labels))
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MultiTaskModel(TASKS)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.5, total_iters=4)
    loader = make_loader()
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    topic_before = model.heads["topic"].weight.detach().clone()
    train(accelerator, model, loader, optimizer, scheduler)
    return {"model": model, "topic_head": model.heads["topic"]}, {
        "topic_head_changed": not torch.equal(topic_before, model.heads["topic"].weight),
        "heads_registered": any(n.startswith("heads") for n, _ in model.named_parameters()),
    }

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
