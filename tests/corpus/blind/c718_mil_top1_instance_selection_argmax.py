import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class InstanceEncoder(nn.Module):
    def __init__(self, in_dim=20, dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class KeyInstancePooling(nn.Module):
    """Pick the most suspicious patch of each slide (hard attention, as in top-1 MIL)."""

    def __init__(self, dim=32):
        super().__init__()
        self.scorer = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, feats):
        scores = self.scorer(feats).squeeze(-1)
        idx = scores.argmax(dim=1)
        pooled = feats[torch.arange(feats.size(0)), idx]
        return pooled, idx


class MILClassifier(nn.Module):
    def __init__(self, in_dim=20, dim=32, n_classes=2):
        super().__init__()
        self.encoder = InstanceEncoder(in_dim, dim)
        self.pool = KeyInstancePooling(dim)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, bags):
        pooled, _ = self.pool(self.encoder(bags))
        return self.classifier(pooled)


def make_bags(n_bags=48, bag_size=12, in_dim=20):
    g = torch.Generator().manual_seed(0)
    bags = torch.randn(n_bags, bag_size, in_dim, generator=g)
    labels = torch.randint(0, 2, (n_bags,), generator=g)
    pos = labels.bool()
    bags[pos, 0, :5] += 2.5  # one tumour patch per positive slide
    return TensorDataset(bags, labels)


def train(model, loader, optimizer, scheduler, epochs=3):
    for _ in range(epochs):
        model.train()
        for bags, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(bags), y)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = MILClassifier()
    before = model.pool.scorer[0].weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    train(model, DataLoader(make_bags(), batch_size=8, shuffle=True), optimizer, scheduler)
    return {"model": model}, {"scorer_changed": not torch.equal(before, model.pool.scorer[0].weight)}

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
