import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function
from torch.utils.data import DataLoader, TensorDataset


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
    def __init__(self, in_dim=20, feat=32, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, feat), nn.ReLU(), nn.Linear(feat, feat), nn.ReLU())
        self.label_head = nn.Linear(feat, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x, lambd=1.0):
        f = self.features(x)
        return self.label_head(f), self.domain_head(grad_reverse(f, lambd)).squeeze(-1)


def make_loaders(n=64, in_dim=20):
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(n, in_dim, generator=g)
    ys = torch.randint(0, 4, (n,), generator=g)
    xt = torch.randn(n, in_dim, generator=g) * 1.5 + 0.5
    src = DataLoader(TensorDataset(xs, ys), batch_size=16, shuffle=True, generator=g)
    tgt = DataLoader(TensorDataset(xt), batch_size=16, shuffle=True, generator=g)
    return src, tgt


def train_epoch(model, src_loader, tgt_loader, optimizer, lambd=0.5):
    model.train()
    for (xs, ys), (xt,) in zip(src_loader, tgt_loader):
        class_logits, dom_src = model(xs, lambd)
        _, dom_tgt = model(xt, lambd)
        dom_logits = torch.cat([dom_src, dom_tgt])
        dom_labels = torch.cat([torch.zeros_like(dom_src), torch.ones_like(dom_tgt)])
        loss = F.cross_entropy(class_logits, ys) + F.binary_cross_entropy_with_logits(dom_logits, dom_labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = DANN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    src, tgt = make_loaders()
    for epoch in range(2):
        train_epoch(model, src, tgt, optimizer)
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
