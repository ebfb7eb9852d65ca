import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ReverseLayerF(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


class DANN(nn.Module):
    def __init__(self, n_cls=4):
        super().__init__()
        self.feature = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU())
        self.class_classifier = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, n_cls))
        self.domain_classifier = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x, alpha):
        feat = self.feature(x)
        reverse_feat = ReverseLayerF.apply(feat, alpha)
        return self.class_classifier(feat), self.domain_classifier(reverse_feat)


def loaders():
    g = torch.Generator().manual_seed(0)
    src = TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 4, (24,), generator=g))
    tgt = TensorDataset(torch.randn(24, 3, 8, 8, generator=g) + 0.5)
    return (DataLoader(src, batch_size=8, shuffle=True, generator=g), DataLoader(tgt, batch_size=8, shuffle=True, generator=g))


def train(model, src_loader, tgt_loader, optimizer, scheduler, epochs=2):
    steps = epochs * len(src_loader)
    for epoch in range(epochs):
        for i, ((xs, ys), (xt,)) in enumerate(zip(src_loader, tgt_loader)):
            p = (epoch * len(src_loader) + i) / steps
            alpha = 2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * p)).item()) - 1
            cls_s, dom_s = model(xs, alpha)
            _, dom_t = model(xt, alpha)
            loss = (F.cross_entropy(cls_s, ys) + F.cross_entropy(dom_s, torch.zeros(len(xs), dtype=torch.long))
                    + F.cross_entropy(dom_t, torch.ones(len(xt), dtype=torch.long)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(DANN())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    f0 = model.module.feature[0].weight.detach().clone()
    train(model, *loaders(), optimizer, scheduler)
    return {"model": model.module}, {"feature_changed": not torch.equal(f0, model.module.feature[0].weight)}

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
