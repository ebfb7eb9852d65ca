import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SharedEncoder(nn.Module):
    def __init__(self, vocab=60, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.heads = nn.ModuleDict()
        self.dim = dim

    def add_task_head(self, name, n_out):
        self.heads[name] = nn.Linear(self.dim, n_out)
        return self.heads[name]

    def forward(self, ids, task):
        h = self.encoder(self.embed(ids)).mean(1)
        return self.heads[task](h)


def build_optimizer(model, lr=3e-3):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def make_loader(n_cls, seed):
    g = torch.Generator().manual_seed(seed)
    ds = TensorDataset(torch.randint(0, 60, (24, 10), generator=g), torch.randint(0, n_cls, (24,), generator=g))
    return DataLoader(ds, batch_size=8, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = SharedEncoder()
    model.add_task_head("topic", 5)
    optimizer = build_optimizer(model)
    topic_loader, senti_loader = make_loader(5, 0), make_loader(3, 1)
    model, optimizer, topic_loader, senti_loader = accelerator.prepare(model, optimizer, topic_loader, senti_loader)
    model.add_task_head("sentiment", 3)
    s0 = model.heads["sentiment"].weight.detach().clone()
    t0 = model.heads["topic"].weight.detach().clone()
    model.train()
    for epoch in range(2):
        for (ids_t, y_t), (ids_s, y_s) in zip(topic_loader, senti_loader):
            loss = F.cross_entropy(model(ids_t, "topic"), y_t) + F.cross_entropy(model(ids_s, "sentiment"), y_s)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    in_opt = any(p is model.heads["sentiment"].weight for grp in optimizer.param_groups for p in grp["params"])
    facts = {"sentiment_head_changed": not torch.equal(s0, model.heads["sentiment"].weight),
             "topic_head_changed": not torch.equal(t0, model.heads["topic"].weight), "sentiment_in_optimizer": in_opt}
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
