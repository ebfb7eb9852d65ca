import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PretrainedEncoder(nn.Module):
    def __init__(self, in_dim=24, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.GELU(), nn.Linear(32, dim), nn.LayerNorm(dim))

    def forward(self, x):
        return self.net(x)


class LinearProbe(nn.Module):
    def __init__(self, dim=16, n_classes=4):
        super().__init__()
        self.fc = nn.Linear(dim, n_classes)

    def forward(self, feats):
        return self.fc(feats)


def cache_features(encoder, x, y, batch_size=16):
    encoder.eval()
    with torch.no_grad():
        feats = encoder(x)
    return DataLoader(TensorDataset(feats, y), batch_size=batch_size, shuffle=True)


def train(probe, loader, optimizer, scheduler, epochs=3):
    probe.train()
    for _ in range(epochs):
        for feats, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(probe(feats), y)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 24)
    y = (x[:, :4].argmax(dim=1))
    encoder = PretrainedEncoder().requires_grad_(False)
    probe = LinearProbe()
    optimizer = torch.optim.AdamW(probe.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    loader = cache_features(encoder, x, y)
    train(probe, loader, optimizer, scheduler)
    return {"probe": probe}

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
