import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ScaleGradient(torch.autograd.Function):
    """Identity in forward; multiplies the incoming gradient by `scale` (balances a shared trunk between tasks)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = None
        if ctx.needs_input_grad[1]:
            grad_x = grad_out * ctx.scale
        return grad_x, None


class MultiTaskNet(nn.Module):
    def __init__(self, in_dim=16, hidden=32, aux_scale=0.1):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.main_head = nn.Linear(hidden, 3)
        self.aux_head = nn.Linear(hidden, 1)
        self.aux_scale = aux_scale

    def forward(self, x):
        h = self.trunk(x)
        return self.main_head(h), self.aux_head(ScaleGradient.apply(h, self.aux_scale)).squeeze(-1)


def train(model, loader, optimizer, scheduler, epochs=2):
    for _ in range(epochs):
        for x, y_cls, y_reg in loader:
            logits, reg = model(x)
            loss = F.cross_entropy(logits, y_cls) + F.mse_loss(reg, y_reg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def trunk_grad_from_aux_only(model, x, y_reg):
    model.zero_grad()
    _, reg = model(x)
    F.mse_loss(reg, y_reg).backward()
    return model.trunk[0].weight.grad


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 16, generator=g)
    y_cls = torch.randint(0, 3, (64,), generator=g)
    y_reg = x[:, 0] * 2
    loader = DataLoader(TensorDataset(x, y_cls, y_reg), batch_size=16, shuffle=True, generator=g)
    model = MultiTaskNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    train(model, loader, optimizer, scheduler)
    aux_grad = trunk_grad_from_aux_only(model, x[:16], y_reg[:16])
    return {"model": model}, {"aux_loss_reaches_trunk": aux_grad is not None}

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
