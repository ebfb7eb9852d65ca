import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def dot_interaction(dense, sparse_embs):
    feats = torch.stack([dense.detach()] + sparse_embs, dim=1)
    z = feats @ feats.transpose(1, 2)
    i, j = torch.triu_indices(feats.size(1), feats.size(1), offset=1)
    return torch.cat([feats[:, 0], z[:, i, j]], dim=1)


class DLRM(nn.Module):
    def __init__(self, n_dense=4, cardinalities=(10, 12, 8), d=8):
        super().__init__()
        self.bottom_mlp = mlp([n_dense, 16, d])
        self.tables = nn.ModuleList([nn.Embedding(c, d) for c in cardinalities])
        n_f = len(cardinalities) + 1
        self.top_mlp = mlp([d + n_f * (n_f - 1) // 2, 16, 1])

    def forward(self, dense, sparse):
        x = self.bottom_mlp(dense)
        embs = [t(sparse[:, k]) for k, t in enumerate(self.tables)]
        return self.top_mlp(dot_interaction(x, embs)).squeeze(-1)


def train_one_epoch(model, loader, optimizer, accelerator):
    for dense, sparse, click in loader:
        loss = F.binary_cross_entropy_with_logits(model(dense, sparse), click)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    dense = torch.randn(64, 4, generator=g)
    sparse = torch.stack([torch.randint(0, c, (64,), generator=g) for c in (10, 12, 8)], dim=1)
    click = ((dense[:, 0] + (sparse[:, 0] % 2)) > 0.5).float()
    model = DLRM()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(dense, sparse, click), batch_size=16, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    bot0 = model.bottom_mlp[0].weight.detach().clone()
    emb0 = model.tables[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "bottom_mlp_changed": not torch.equal(bot0, model.bottom_mlp[0].weight),
        "embeddings_changed": not torch.equal(emb0, model.tables[0].weight),
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
