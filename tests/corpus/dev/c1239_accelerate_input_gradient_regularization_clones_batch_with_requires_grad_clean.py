import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SmoothClassifier(nn.Module):
    def __init__(self, in_dim=10, n_classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 32), nn.Softplus(), nn.Linear(32, 32), nn.Softplus())
        self.out = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.out(self.body(x))


def regularized_loss(model, x, y, lam=0.1):
    x = x.clone().requires_grad_(True)
    ce = F.cross_entropy(model(x), y)
    (grad_x,) = torch.autograd.grad(ce, x, create_graph=True)
    penalty = grad_x.pow(2).sum(dim=1).mean()
    return ce + lam * penalty, penalty.item()


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 10, generator=g)
    y = (x[:, :3].sum(1) > 0).long() + (x[:, 3] > 1).long()
    model = SmoothClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.body[0].weight.detach().clone()
    penalties = []
    for _ in range(2):
        for xb, yb in loader:
            loss, pen = regularized_loss(model, xb, yb)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            penalties.append(pen)
    facts = {"model_changed": not torch.equal(w0, model.body[0].weight), "penalty_positive": min(penalties) > 0}
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
