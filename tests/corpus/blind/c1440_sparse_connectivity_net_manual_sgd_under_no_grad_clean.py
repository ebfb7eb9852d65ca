import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MaskedLinear(nn.Linear):
    """Linear layer with a fixed sparse connectivity pattern (e.g. gene -> pathway)."""

    def __init__(self, mask):
        super().__init__(mask.size(1), mask.size(0))
        self.register_buffer("mask", mask.float())
        with torch.no_grad():
            self.weight.mul_(self.mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class PathwayNet(nn.Module):
    def __init__(self, mask, n_out=2):
        super().__init__()
        self.pathways = MaskedLinear(mask)
        self.classifier = nn.Linear(mask.size(0), n_out)

    def forward(self, x):
        return self.classifier(torch.tanh(self.pathways(x)))


def sgd_step(model, lr):
    with torch.no_grad():
        for param in model.parameters():
            if param.grad is not None:
                param -= lr * param.grad
                param.grad.zero_()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(41)
    mask = torch.rand(6, 20, generator=g) < 0.3
    x = torch.randn(48, 20, generator=g)
    y = (x[:, :5].sum(1) > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)
    model = PathwayNet(mask)
    w0 = model.pathways.weight.detach().clone()
    for _ in range(2):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            sgd_step(model, lr=0.1)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    w = model.pathways.weight.detach()
    return ({"model": model},
            {"pathway_weights_changed": not torch.equal(w0, w),
             "pruned_connections_stay_zero": bool((w[~mask] == 0).all())})

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
