import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


def regression_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()


class BYOL(nn.Module):
    def __init__(self, in_dim=20, feat=32, proj=16, tau=0.99):
        super().__init__()
        self.online_enc = nn.Sequential(nn.Linear(in_dim, 48), nn.ReLU(), nn.Linear(48, feat))
        self.online_proj = mlp(feat, 32, proj)
        self.predictor = mlp(proj, 32, proj)
        self.target_enc = copy.deepcopy(self.online_enc).requires_grad_(False)
        self.target_proj = copy.deepcopy(self.online_proj).requires_grad_(False)
        self.tau = tau

    @torch.no_grad()
    def _momentum_update(self):
        for online, target in ((self.online_enc, self.target_enc), (self.online_proj, self.target_proj)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(self.tau).add_(po, alpha=1 - self.tau)

    def compute_loss(self, x1, x2):
        with torch.no_grad():
            self._momentum_update()
            z1_t = self.target_proj(self.target_enc(x1))
            z2_t = self.target_proj(self.target_enc(x2))
            p1 = self.predictor(self.online_proj(self.online_enc(x1)))
            p2 = self.predictor(self.online_proj(self.online_enc(x2)))
        return regression_loss(p1, z2_t) + regression_loss(p2, z1_t)


def augment(x, g):
    return x * (torch.rand(x.shape, generator=g) > 0.15).float() + 0.05 * torch.randn(x.shape, generator=g)


def train(model, loader, optimizer, epochs=2):
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(epochs):
        for (x,) in loader:
            loss = model.compute_loss(augment(x, g), augment(x, g))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(64, 20, generator=g)), batch_size=16, shuffle=True, generator=g)
    model = BYOL()
    online = [p for n, p in model.named_parameters() if not n.startswith("target_")]
    optimizer = torch.optim.Adam(online, lr=1e-3)
    train(model, loader, optimizer)
    return {"model": model}

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
