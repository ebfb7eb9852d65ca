import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DLRM(nn.Module):
    def __init__(self, n_dense=4, cardinalities=(10, 12, 8), d=8):
        super().__init__()
        self.bottom_mlp = nn.Sequential(nn.Linear(n_dense, 16), nn.ReLU(), nn.Linear(16, d))
        self.tables = nn.ModuleList([nn.EmbeddingBag(c, d, mode="sum") for c in cardinalities])
        n_f = len(cardinalities) + 1
        self.register_buffer("tri", torch.triu_indices(n_f, n_f, offset=1))
        self.top_mlp = nn.Sequential(nn.Linear(d + self.tri.size(1), 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, dense, sparse, offsets):
        x = self.bottom_mlp(dense)
        embs = [t(sparse[:, k], offsets) for k, t in enumerate(self.tables)]
        feats = torch.stack([x] + embs, dim=1)
        z = feats @ feats.transpose(1, 2)
        inter = z[:, self.tri[0], self.tri[1]]
        return self.top_mlp(torch.cat([x, inter], dim=1)).squeeze(-1)


def train_one_epoch(model, loader, optimizer, log):
    model.train()
    for dense, sparse, click in loader:
        offsets = torch.arange(dense.size(0))
        logits = model(dense, sparse, offsets)
        loss = F.binary_cross_entropy_with_logits(logits, click)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "ctr": torch.sigmoid(logits).mean().item()})


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    dense = torch.randn(64, 4, generator=g)
    sparse = torch.stack([torch.randint(0, c, (64,), generator=g) for c in (10, 12, 8)], dim=1)
    click = ((sparse[:, 1] % 3 == 0) | (dense[:, 0] > 1)).float()
    model = nn.DataParallel(DLRM())
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(dense, sparse, click), batch_size=16, shuffle=True, generator=g)
    emb0 = model.module.tables[1].weight.detach().clone()
    log = []
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, log)
    return {"model": model}, {"embeddings_changed": not torch.equal(emb0, model.module.tables[1].weight)}

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
