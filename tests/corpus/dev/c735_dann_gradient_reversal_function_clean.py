import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd, None


def grad_reverse(x, lambd=1.0):
    return GradReverse.apply(x, lambd)


class DANN(nn.Module):
    def __init__(self, in_dim=10, feat=24, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, feat), nn.ReLU(), nn.Linear(feat, feat), nn.ReLU())
        self.label_head = nn.Linear(feat, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x, lambd=0.0):
        f = self.features(x)
        return self.label_head(f), self.domain_head(grad_reverse(f, lambd)).squeeze(-1)


def dann_lambda(progress, gamma=10.0):
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


def make_domains(n=96, in_dim=10):
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(n, in_dim, generator=g)
    ys = xs[:, :3].argmax(1)
    xt = torch.randn(n, in_dim, generator=g) * 1.3 + 0.4
    return (DataLoader(TensorDataset(xs, ys), batch_size=32, shuffle=True, generator=g),
            DataLoader(TensorDataset(xt), batch_size=32, shuffle=True, generator=g))


def train(model, source_loader, target_loader, optimizer, epochs=2):
    total = epochs * len(source_loader)
    step = 0
    for _ in range(epochs):
        for (xs, ys), (xt,) in zip(source_loader, target_loader):
            lambd = dann_lambda(step / total)
            cls_logits, dom_s = model(xs, lambd)
            _, dom_t = model(xt, lambd)
            dom_loss = F.binary_cross_entropy_with_logits(
                torch.cat([dom_s, dom_t]), torch.cat([torch.zeros_like(dom_s), torch.ones_like(dom_t)]))
            loss = F.cross_entropy(cls_logits, ys) + dom_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1


def main():
    torch.manual_seed(0)
    model = DANN()
    source_loader, target_loader = make_domains()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train(model, source_loader, target_loader, optimizer)
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
