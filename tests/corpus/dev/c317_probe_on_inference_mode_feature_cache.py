import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, in_dim=32, feat_dim=24):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 64), nn.GELU(), nn.Linear(64, feat_dim), nn.LayerNorm(feat_dim))

    def forward(self, x):
        return self.net(x)


class FeatureCache:
    """Runs the frozen backbone once over the dataset and keeps the features in memory."""

    def __init__(self, backbone):
        self.backbone = backbone

    @torch.inference_mode()
    def build(self, loader):
        self.backbone.eval()
        feats, labels = [], []
        for x, y in loader:
            feats.append(self.backbone(x))
            labels.append(y)
        self.feats, self.labels = torch.cat(feats), torch.cat(labels)
        return self

    def batches(self, batch_size):
        # the loader that built the cache was shuffled, so contiguous slices are random batches
        for i in range(0, self.feats.size(0), batch_size):
            yield self.feats[i:i + batch_size], self.labels[i:i + batch_size]


def train_probe(head, cache, optimizer, scheduler, epochs=3, batch_size=15):
    head.train()
    for _ in range(epochs):
        for feats, y in cache.batches(batch_size):
            optimizer.zero_grad()
            loss = F.cross_entropy(head(feats), y)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 32, generator=g)
    y = torch.randint(0, 5, (60,), generator=g)
    cache = FeatureCache(Backbone()).build(DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True, generator=g))
    head = nn.Sequential(nn.Linear(24, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 5))
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    train_probe(head, cache, optimizer, scheduler)
    return {"head": head}

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
