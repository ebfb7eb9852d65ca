import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"points": 16, "phi_dim": 32, "classes": 4, "lr": 1e-3, "epochs": 3, "bs": 8}


class ElementEncoder(nn.Module):
    """phi: applied to every point of the set independently."""

    def __init__(self, d_in, d):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, d), nn.ELU(), nn.Linear(d, d), nn.ELU(), nn.Linear(d, d))

    def forward(self, x):
        return self.net(x)


class DeepSets(nn.Module):
    def __init__(self, cfg, d_in=3):
        super().__init__()
        self.phi = ElementEncoder(d_in, cfg["phi_dim"])
        self.rho = nn.Sequential(nn.Linear(cfg["phi_dim"], cfg["phi_dim"]), nn.ELU(), nn.Dropout(0.1),
                                 nn.Linear(cfg["phi_dim"], cfg["classes"]))

    def embed_elements(self, points):
        """Per-point features; large point clouds are chunked to bound activation memory."""
        chunks = []
        with torch.no_grad():
            for chunk in points.split(8, dim=1):
                chunks.append(self.phi(chunk))
        return torch.cat(chunks, dim=1)

    def forward(self, points):
        pooled = self.embed_elements(points).max(dim=1).values
        return self.rho(pooled)


def modelnet_like(n=32, points=16, classes=4):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, classes, (n,), generator=g)
    radius = (labels.float() + 1)[:, None, None]
    direction = F.normalize(torch.randn(n, points, 3, generator=g), dim=-1)
    return direction * radius + 0.05 * torch.randn(n, points, 3, generator=g), labels


def train_one_epoch(model, optimizer, data, bs):
    x_all, y_all = data
    model.train()
    perm = torch.randperm(len(y_all))
    for i in range(0, len(y_all), bs):
        idx = perm[i:i + bs]
        loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(DeepSets(CFG))
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"], weight_decay=1e-5)
    phi0 = model.module.phi.net[0].weight.detach().clone()
    rho0 = model.module.rho[0].weight.detach().clone()
    data = modelnet_like(points=CFG["points"], classes=CFG["classes"])
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, optimizer, data, CFG["bs"])
    return {"model": model.module}, {
        "phi_changed": not torch.equal(phi0, model.module.phi.net[0].weight),
        "rho_changed": not torch.equal(rho0, model.module.rho[0].weight),
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
