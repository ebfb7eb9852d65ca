import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class WideLinear(nn.Module):
    """Wide part of the CTR model: one weight per dense feature plus a scalar per sparse id."""

    def __init__(self, n_dense, n_fields, vocab):
        super().__init__()
        self.sparse_weights = nn.ModuleList(nn.Embedding(vocab, 1) for _ in range(n_fields))
        self.weight = torch.empty(n_dense, 1, requires_grad=True)
        nn.init.normal_(self.weight, mean=0.0, std=0.01)

    def forward(self, dense, sparse):
        logit = dense @ self.weight
        for i, emb in enumerate(self.sparse_weights):
            logit = logit + emb(sparse[:, i])
        return logit


class DeepTower(nn.Module):
    def __init__(self, n_dense, n_fields, vocab, dim=8):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(vocab, dim) for _ in range(n_fields))
        self.mlp = nn.Sequential(nn.Linear(n_dense + n_fields * dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, dense, sparse):
        embs = [emb(sparse[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.mlp(torch.cat([dense] + embs, dim=1))


class WideAndDeep(nn.Module):
    def __init__(self, n_dense=6, n_fields=3, vocab=20):
        super().__init__()
        self.wide = WideLinear(n_dense, n_fields, vocab)
        self.deep = DeepTower(n_dense, n_fields, vocab)

    def forward(self, dense, sparse):
        return (self.wide(dense, sparse) + self.deep(dense, sparse)).squeeze(-1)


def make_loader(n=96):
    g = torch.Generator().manual_seed(21)
    dense = torch.randn(n, 6, generator=g)
    sparse = torch.randint(0, 20, (n, 3), generator=g)
    clicks = (dense[:, 0] + 0.5 * dense[:, 1] > 0).float()
    return DataLoader(TensorDataset(dense, sparse, clicks), batch_size=16, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = WideAndDeep()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    wide0 = model.wide.weight.detach().clone()
    model.train()
    for epoch in range(2):
        for dense, sparse, clicks in loader:
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(dense, sparse), clicks)
            accelerator.backward(loss)
            optimizer.step()
    return ({"model": model, "wide_dense_weight": model.wide.weight},
            {"wide_dense_weight_changed": not torch.equal(wide0, model.wide.weight),
             "wide_dense_weight_in_optimizer": any(p is model.wide.weight for grp in optimizer.param_groups for p in grp["params"])})

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
