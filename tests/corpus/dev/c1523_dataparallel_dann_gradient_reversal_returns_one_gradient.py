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
        return grad_output.neg() * ctx.lambd


def grad_reverse(x, lambd=1.0):
    return GradReverse.apply(x, lambd)


class DANN(nn.Module):
    def __init__(self, in_dim=16, feat=24, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, feat), nn.ReLU(), nn.Linear(feat, feat), nn.ReLU())
        self.label_head = nn.Linear(feat, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x, lambd=1.0):
        f = self.features(x)
        return self.label_head(f), self.domain_head(grad_reverse(f, lambd)).squeeze(-1)


def train_epoch(model, source_loader, target_loader, optimizer, epoch, n_epochs):
    model.train()
    for step, ((xs, ys), (xt,)) in enumerate(zip(source_loader, target_loader)):
        p = (epoch + step / len(source_loader)) / n_epochs
        lambd = 2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * p)).item()) - 1.0
        class_logits, dom_s = model(xs, lambd)
        _, dom_t = model(xt, lambd)
        domain_loss = F.binary_cross_entropy_with_logits(dom_s, torch.zeros_like(dom_s)) + \
            F.binary_cross_entropy_with_logits(dom_t, torch.ones_like(dom_t))
        loss = F.cross_entropy(class_logits, ys) + domain_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(23)
    xs, ys = torch.randn(48, 16, generator=g), torch.randint(0, 3, (48,), generator=g)
    xt = torch.randn(48, 16, generator=g) + 0.7
    source = DataLoader(TensorDataset(xs, ys), batch_size=12, shuffle=True, generator=g)
    target = DataLoader(TensorDataset(xt), batch_size=12, shuffle=True, generator=g)
    model = nn.DataParallel(DANN())
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    for epoch in range(2):
        train_epoch(model, source, target, optimizer, epoch, 2)
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
