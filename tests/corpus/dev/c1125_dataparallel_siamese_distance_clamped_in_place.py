import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SignatureEncoder(nn.Module):
    def __init__(self, in_dim=20, dim=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


class SiameseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = SignatureEncoder()

    def forward(self, a, b):
        return self.encoder(a), self.encoder(b)


def euclidean_distance(u, v):
    d = torch.sqrt(((u - v) ** 2).sum(dim=1))
    d.clamp_(min=1e-6)
    return d


def contrastive_loss(d, same, margin=1.0):
    return (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2)).mean()


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for a, b, same in loader:
            ea, eb = model(a, b)
            loss = contrastive_loss(euclidean_distance(ea, eb), same)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    a = torch.randn(48, 20)
    same = (torch.rand(48) < 0.5).float()
    b = torch.where(same[:, None].bool(), a + 0.1 * torch.randn(48, 20), torch.randn(48, 20))
    loader = DataLoader(TensorDataset(a, b, same), batch_size=12, shuffle=True)
    net = SiameseNet()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
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
