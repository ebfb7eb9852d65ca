import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class QualityScorer(nn.Module):
    """Scores candidates; trained to match the ordering of human ratings within each batch."""

    def __init__(self, in_dim=12):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.score = nn.Linear(32, 1)

    def forward(self, x):
        return self.score(self.features(x)).squeeze(-1)


def ranks(x):
    return x.argsort(dim=0).argsort(dim=0).float()


def spearman_loss(pred, target):
    rp, rt = ranks(pred), ranks(target)
    rp = (rp - rp.mean()) / rp.std()
    rt = (rt - rt.mean()) / rt.std()
    return 1.0 - (rp * rt).mean()


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, rating in loader:
            optimizer.zero_grad()
            loss = spearman_loss(model(x), rating)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 12)
    rating = x[:, 0] - 0.5 * x[:, 1] + 0.1 * torch.randn(64)
    loader = DataLoader(TensorDataset(x, rating), batch_size=16, shuffle=True)
    net = QualityScorer()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    train(model, loader, optimizer)
    return {"model": net}

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
