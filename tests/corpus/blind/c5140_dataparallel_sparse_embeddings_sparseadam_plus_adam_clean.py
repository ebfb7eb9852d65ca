import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"users": 50, "items": 80, "dim": 16, "dense_lr": 3e-3, "sparse_lr": 1e-2, "epochs": 2}


class NeuMF(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.user_emb = nn.Embedding(cfg["users"], cfg["dim"], sparse=True)
        self.item_emb = nn.Embedding(cfg["items"], cfg["dim"], sparse=True)
        self.mlp = nn.Sequential(nn.Linear(2 * cfg["dim"], 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.predict = nn.Linear(16 + cfg["dim"], 1)

    def forward(self, users, items):
        u, i = self.user_emb(users), self.item_emb(items)
        return self.predict(torch.cat([u * i, self.mlp(torch.cat([u, i], -1))], -1)).squeeze(-1)


def build_optimizers(model, cfg):
    net = model.module if isinstance(model, nn.DataParallel) else model
    sparse = [p for m in net.modules() if isinstance(m, nn.Embedding) and m.sparse for p in m.parameters()]
    sparse_ids = {id(p) for p in sparse}
    dense = [p for p in net.parameters() if id(p) not in sparse_ids]
    return [torch.optim.SparseAdam(sparse, lr=cfg["sparse_lr"]), torch.optim.Adam(dense, lr=cfg["dense_lr"])]


def interactions(cfg, n=128):
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, cfg["users"], (n,), generator=g)
    items = torch.randint(0, cfg["items"], (n,), generator=g)
    return DataLoader(TensorDataset(users, items, ((users + items) % 3 == 0).float()), batch_size=32, shuffle=True,
                      generator=g)


def train(model, loader, optimizers, epochs):
    for _ in range(epochs):
        for users, items, y in loader:
            loss = F.binary_cross_entropy_with_logits(model(users, items), y)
            for opt in optimizers:
                opt.zero_grad()
            loss.backward()
            for opt in optimizers:
                opt.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(NeuMF(CFG))
    optimizers = build_optimizers(model, CFG)
    u0, m0 = model.module.user_emb.weight.detach().clone(), model.module.mlp[0].weight.detach().clone()
    train(model, interactions(CFG), optimizers, CFG["epochs"])
    users, items, y = next(iter(interactions(CFG)))
    F.binary_cross_entropy_with_logits(model(users, items), y).backward()
    return {"model": model.module}, {
        "user_emb_changed": not torch.equal(u0, model.module.user_emb.weight),
        "mlp_changed": not torch.equal(m0, model.module.mlp[0].weight),
        "n_params_covered": sum(len(g["params"]) for o in optimizers for g in o.param_groups),
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
