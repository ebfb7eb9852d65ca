import torch
import torch.nn as nn
import torch.nn.functional as F


class PointNetEncoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, pts):
        return self.mlp(pts).max(dim=1).values


class CageDeformer(nn.Module):
    """Deforms a shape through a coarse cage: predicts cage offsets and refines mean-value-coordinate weights."""

    def __init__(self, n_cage=8, dim=32):
        super().__init__()
        self.encoder = PointNetEncoder(dim)
        self.offset_net = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, n_cage * 3))
        self.weight_net = nn.Sequential(nn.Linear(3 + n_cage, dim), nn.ReLU(), nn.Linear(dim, n_cage))
        self.n_cage = n_cage

    def mean_value_weights(self, pts, cage):
        dist = torch.cdist(pts, cage)
        base = torch.softmax(-dist, dim=-1)
        logits = self.weight_net(torch.cat([pts, base], dim=-1))
        weights = torch.softmax(logits + torch.log(base + 1e-8), dim=-1)
        weights = weights.detach()
        return weights

    def forward(self, source, target, cage):
        code = torch.cat([self.encoder(source), self.encoder(target)], dim=-1)
        offsets = self.offset_net(code).view(-1, self.n_cage, 3)
        weights = self.mean_value_weights(source, cage)
        deformed = weights @ (cage + offsets)
        return deformed, weights


def chamfer(a, b):
    d = torch.cdist(a, b)
    return d.min(dim=2).values.mean() + d.min(dim=1).values.mean()


def mvc_regularizer(weights):
    return (weights.clamp(max=0) ** 2).mean() + (weights.sum(-1) - 1).pow(2).mean() + weights.var(dim=1).mean()


def train(model, optimizer, batches, mvc_weight=0.1):
    history = []
    for source, target, cage in batches:
        deformed, weights = model(source, target, cage)
        loss = chamfer(deformed, target) + mvc_weight * mvc_regularizer(weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def main():
    torch.manual_seed(0)
    cage = torch.tensor([[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)])
    batches = [(torch.rand(2, 32, 3) * 2 - 1, torch.rand(2, 32, 3) * 1.5 - 0.75, cage.expand(2, -1, -1)) for _ in range(3)]
    model = CageDeformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = train(model, optimizer, batches)
    return {"model": model}, {"steps": len(history)}

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
