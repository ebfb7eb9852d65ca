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


class LayoutBackbone(nn.Module):
    """Encodes a rendered document page into region features (text / table / figure blocks)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2))

    def forward(self, page):
        return self.net(page).flatten(1)


class DomainAdaptiveLayoutClassifier(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.backbone = LayoutBackbone()
        self.region_head = nn.Linear(64, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, page, lambd):
        feat = self.backbone(page)
        return self.region_head(feat), self.domain_head(grad_reverse(feat, lambd)).squeeze(-1)


def dann_lambda(step, total):
    p = step / max(total, 1)
    return 2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * p)).item()) - 1.0


def page_loaders(n=12, size=16):
    g = torch.Generator().manual_seed(0)
    src = torch.rand(n, 1, size, size, generator=g)
    src_y = (src.mean((1, 2, 3)) * 6).long().clamp(max=2)
    tgt = torch.rand(n, 1, size, size, generator=g) * 0.5 + 0.25
    return (DataLoader(TensorDataset(src, src_y), batch_size=4, shuffle=True, generator=g),
            DataLoader(TensorDataset(tgt), batch_size=4, shuffle=True, generator=g))


def main():
    torch.manual_seed(0)
    model = DomainAdaptiveLayoutClassifier()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    src_loader, tgt_loader = page_loaders()
    b0 = model.backbone.net[0].weight.detach().clone()
    d0 = model.domain_head[0].weight.detach().clone()
    total, step = 2 * len(src_loader), 0
    for _ in range(2):
        for (src, y), (tgt,) in zip(src_loader, tgt_loader):
            lambd = dann_lambda(step, total)
            cls_logits, dom_src = compiled(src, lambd)
            _, dom_tgt = compiled(tgt, lambd)
            dom_loss = F.binary_cross_entropy_with_logits(dom_src, torch.zeros_like(dom_src)) + \
                F.binary_cross_entropy_with_logits(dom_tgt, torch.ones_like(dom_tgt))
            loss = F.cross_entropy(cls_logits, y) + dom_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
    return {"model": model}, {
        "backbone_changed": not torch.equal(b0, model.backbone.net[0].weight),
        "domain_head_changed": not torch.equal(d0, model.domain_head[0].weight),
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
