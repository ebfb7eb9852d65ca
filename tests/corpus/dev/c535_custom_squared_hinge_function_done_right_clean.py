import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SquaredHinge(torch.autograd.Function):
    """Fused squared hinge for a margin-based energy model: mean(relu(margin - y * score)^2)."""

    @staticmethod
    def forward(ctx, score, target, margin):
        slack = (margin - target * score).clamp(min=0)
        ctx.save_for_backward(slack, target)
        return slack.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out):
        slack, target = ctx.saved_tensors
        grad_score = None
        if ctx.needs_input_grad[0]:
            grad_score = grad_out * (-2.0 * slack * target) / slack.numel()
        return grad_score, None, None


def squared_hinge(score, target, margin=1.0):
    return SquaredHinge.apply(score, target, margin)


class PairScorer(nn.Module):
    def __init__(self, dim=10, hidden=32):
        super().__init__()
        self.user = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.item = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    def forward(self, u, i):
        return (self.user(u) * self.item(i)).sum(-1) / self.user[0].out_features ** 0.5


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for u, i, y in loader:
            optimizer.zero_grad()
            loss = squared_hinge(model(u, i), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    u, i = torch.randn(64, 10, generator=g), torch.randn(64, 10, generator=g)
    y = torch.where((u * i).sum(1) > 0, 1.0, -1.0)
    loader = DataLoader(TensorDataset(u, i, y), batch_size=16, shuffle=True, generator=g)
    model = PairScorer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    score = torch.randn(5, dtype=torch.double, requires_grad=True)
    target = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0], dtype=torch.double)
    grad_ok = torch.autograd.gradcheck(lambda s: squared_hinge(s, target), (score,))
    train(model, loader, optimizer)
    return {"model": model}, {"gradcheck": bool(grad_ok)}

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
