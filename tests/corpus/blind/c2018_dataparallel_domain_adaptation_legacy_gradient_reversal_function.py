import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function


class GradReverse(Function):
    def __init__(self, lambd):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return x.view_as(x)

    def backward(self, grad_output):
        return -self.lambd * grad_output


def grad_reverse(x, lambd=1.0):
    return GradReverse(lambd)(x)


class DANN(nn.Module):
    def __init__(self, d_in=20, feat=16, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, feat), nn.ReLU())
        self.label_head = nn.Linear(feat, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x, lambd=0.0):
        f = self.features(x)
        return self.label_head(f), self.domain_head(grad_reverse(f, lambd)).squeeze(-1)


def dann_lambda(progress, gamma=10.0):
    return 2.0 / (1.0 + torch.exp(torch.tensor(-gamma * progress)).item()) - 1.0


def main():
    torch.manual_seed(0)
    src_x, src_y = torch.randn(32, 20), torch.randint(0, 4, (32,))
    tgt_x = torch.randn(32, 20) + 0.5
    model = nn.DataParallel(DANN())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n_steps = 8
    for step in range(n_steps):
        i = (step * 8) % 32
        xs, ys, xt = src_x[i:i + 8], src_y[i:i + 8], tgt_x[i:i + 8]
        lambd = dann_lambda(step / n_steps)
        cls_s, dom_s = model(xs, lambd)
        _, dom_t = model(xt, lambd)
        loss = F.cross_entropy(cls_s, ys) + F.binary_cross_entropy_with_logits(
            torch.cat([dom_s, dom_t]), torch.cat([torch.zeros(8), torch.ones(8)]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model.module}

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
