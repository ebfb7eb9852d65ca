import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class EmbeddingNet(nn.Module):
    def __init__(self, d_in=12, d_emb=8):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, d_emb))

    def forward(self, x):
        return F.normalize(self.body(x), dim=-1)


class ProxyNCALoss(nn.Module):
    """Proxy-NCA: one learnable proxy per class; embeddings are pulled to their class proxy."""

    def __init__(self, n_classes, d_emb, scale=8.0):
        super().__init__()
        self.proxies = nn.Parameter(torch.randn(n_classes, d_emb) * 0.1)
        self.scale = scale

    def forward(self, emb, labels):
        proxies = F.normalize(self.proxies, dim=-1)
        dist = torch.cdist(emb, proxies) ** 2
        return F.cross_entropy(-self.scale * dist, labels)


def train(model, criterion, loader, optimizer, scheduler, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    centers = torch.randn(5, 12) * 2
    labels = torch.randint(0, 5, (60,))
    feats = centers[labels] + 0.5 * torch.randn(60, 12)
    loader = DataLoader(TensorDataset(feats, labels), batch_size=12, shuffle=True, drop_last=True)
    embedder = EmbeddingNet()
    model = torch.compile(embedder, backend="eager")
    criterion = ProxyNCALoss(n_classes=5, d_emb=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    proxies0 = criterion.proxies.detach().clone()
    emb0 = embedder.body[0].weight.detach().clone()
    train(model, criterion, loader, optimizer, scheduler)
    return {"embedder": embedder, "criterion": criterion}, {
        "proxies_changed": not torch.equal(proxies0, criterion.proxies),
        "embedder_changed": not torch.equal(emb0, embedder.body[0].weight),
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
