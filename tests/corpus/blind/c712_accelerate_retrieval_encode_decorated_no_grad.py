import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TextTower(nn.Module):
    def __init__(self, vocab=500, dim=32):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, tokens):
        return self.mlp(self.embed(tokens))


class DualEncoder(nn.Module):
    def __init__(self, vocab=500, dim=32):
        super().__init__()
        self.query_tower = TextTower(vocab, dim)
        self.doc_tower = TextTower(vocab, dim)
        self.logit_scale = nn.Parameter(torch.tensor(2.659))

    @torch.no_grad()
    def encode(self, tokens, kind="doc"):
        tower = self.query_tower if kind == "query" else self.doc_tower
        return F.normalize(tower(tokens), dim=-1)

    def build_index(self, doc_batches):
        self.eval()
        return torch.cat([self.encode(d) for d in doc_batches])

    def contrastive_loss(self, queries, docs):
        q = self.encode(queries, kind="query")
        d = self.encode(docs)
        logits = self.logit_scale.exp() * q @ d.t()
        target = torch.arange(q.size(0))
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


def make_loader(n=96, q_len=6, d_len=16, vocab=500):
    g = torch.Generator().manual_seed(0)
    docs = torch.randint(0, vocab, (n, d_len), generator=g)
    queries = docs[:, :q_len].clone()
    return DataLoader(TensorDataset(queries, docs), batch_size=32, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = DualEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    tower_before = model.query_tower.mlp[0].weight.detach().clone()
    model.train()
    for _ in range(2):
        for queries, docs in loader:
            optimizer.zero_grad()
            loss = model.contrastive_loss(queries, docs)
            accelerator.backward(loss)
            optimizer.step()
    index = model.build_index([b[1] for b in loader])
    return {"model": model}, {"query_tower_changed": not torch.equal(tower_before, model.query_tower.mlp[0].weight),
                              "index_rows": int(index.shape[0])}

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
