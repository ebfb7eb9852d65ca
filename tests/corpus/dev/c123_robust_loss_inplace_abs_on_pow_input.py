import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def smooth_l1(pred, target, beta=1.0):
    diff = pred - target
    quadratic = 0.5 * diff.pow(2) / beta
    diff.abs_()
    linear = diff - 0.5 * beta
    return torch.where(diff < beta, quadratic, linear).mean()


class BoxRegressor(nn.Module):
    def __init__(self, in_dim=16):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU())
        self.box = nn.Linear(32, 4)

    def forward(self, feats):
        return self.box(self.trunk(feats))


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for feats, boxes in loader:
            optimizer.zero_grad()
            loss = smooth_l1(model(feats), boxes)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 16), torch.rand(32, 4) * 3), batch_size=8, shuffle=True)
    model = BoxRegressor()
    train(model, loader, torch.optim.SGD(model.parameters(), lr=0.01))
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
