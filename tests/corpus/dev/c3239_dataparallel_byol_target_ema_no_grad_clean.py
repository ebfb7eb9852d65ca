import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BYOL(nn.Module):
    def __init__(self, d_in=20, hidden=32, proj=8, tau=0.9):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.projector = nn.Linear(hidden, proj)
        self.predictor = nn.Sequential(nn.Linear(proj, hidden), nn.ReLU(), nn.Linear(hidden, proj))
        self.target = copy.deepcopy(nn.Sequential(self.online, self.projector))
        self.target.requires_grad_(False)
        self.tau = tau

    def forward(self, v1, v2):
        p1 = self.predictor(self.projector(self.online(v1)))
        p2 = self.predictor(self.projector(self.online(v2)))
        with torch.no_grad():
            t1, t2 = self.target(v1), self.target(v2)
        return byol_loss(p1, t2) + byol_loss(p2, t1)

    @torch.no_grad()
    def update_target(self):
        online = list(self.online.parameters()) + list(self.projector.parameters())
        for tp, op in zip(self.target.parameters(), online):
            tp.mul_(self.tau).add_(op.detach(), alpha=1 - self.tau)


def byol_loss(p, z):
    return (2 - 2 * F.cosine_similarity(p, z, dim=-1)).mean()


def augment(x, g):
    return x + 0.1 * torch.randn(x.shape, generator=g)


def train(model, loader, optimizer, epochs=1):
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        for (x,) in loader:
            optimizer.zero_grad()
            loss = model(augment(x, g), augment(x, g))
            loss.backward()
            optimizer.step()
            model.module.update_target()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(BYOL())
    t0 = model.module.target[0][0].weight.detach().clone()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    train(model, DataLoader(TensorDataset(torch.randn(24, 20, generator=g)), batch_size=8), optimizer)
    facts = {"target_changed": not torch.equal(t0, model.module.target[0][0].weight),
             "target_requires_grad": model.module.target[0][0].weight.requires_grad}
    return {"model": model}, facts

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
