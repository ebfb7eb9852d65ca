import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"instances": 10, "in_dim": 14, "feat": 24, "k": 3, "lr": 3e-3, "epochs": 2}


class TopKMILPooling(nn.Module):
    """Score every instance, keep the k most suspicious ones and average them."""

    def __init__(self, feat, k):
        super().__init__()
        self.k = k
        self.scorer = nn.Sequential(nn.Linear(feat, 16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, feats):                                   # feats: (B, N, F)
        scores = self.scorer(feats).squeeze(-1)                 # (B, N)
        top = scores.topk(self.k, dim=1).indices
        weights = torch.zeros_like(scores).scatter(1, top, 1.0 / self.k)
        return (weights.unsqueeze(-1) * feats).sum(1), scores


class MILClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(cfg["in_dim"], cfg["feat"]), nn.ReLU())
        self.pool = TopKMILPooling(cfg["feat"], cfg["k"])
        self.classifier = nn.Linear(cfg["feat"], 1)

    def forward(self, bags):
        pooled, _ = self.pool(self.encoder(bags))
        return self.classifier(pooled).squeeze(-1)


def bag_loader(cfg, n=48):
    g = torch.Generator().manual_seed(0)
    bags = torch.randn(n, cfg["instances"], cfg["in_dim"], generator=g)
    labels = (torch.rand(n, generator=g) > 0.5).float()
    bags[labels == 1, 0, :3] += 2.5                             # one positive instance per positive bag
    return DataLoader(TensorDataset(bags, labels), batch_size=8, shuffle=True, generator=g)


def train(model, step_fn, loader, optimizer, epochs):
    for _ in range(epochs):
        for bags, y in loader:
            loss = F.binary_cross_entropy_with_logits(step_fn(bags), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = MILClassifier(CFG)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"], weight_decay=0.0)
    s0, e0 = model.pool.scorer[2].weight.detach().clone(), model.encoder[0].weight.detach().clone()
    train(model, compiled, bag_loader(CFG), optimizer, CFG["epochs"])
    return {"model": model}, {
        "scorer_changed": not torch.equal(s0, model.pool.scorer[2].weight),
        "encoder_changed": not torch.equal(e0, model.encoder[0].weight),
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
