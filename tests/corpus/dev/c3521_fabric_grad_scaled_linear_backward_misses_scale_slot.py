import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GradScaledLinearFn(torch.autograd.Function):
    """Linear layer whose parameter gradients are rescaled (the input gradient is left alone)."""

    @staticmethod
    def forward(ctx, x, weight, bias, grad_scale):
        ctx.save_for_backward(x, weight)
        ctx.grad_scale = grad_scale
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_x = grad_out @ weight
        grad_w = (grad_out.t() @ x) * ctx.grad_scale
        grad_b = grad_out.sum(0) * ctx.grad_scale
        return grad_x, grad_w, grad_b


class GradScaledLinear(nn.Module):
    def __init__(self, d_in, d_out, grad_scale):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) / d_in ** 0.5)
        self.bias = nn.Parameter(torch.zeros(d_out))
        self.grad_scale = grad_scale

    def forward(self, x):
        return GradScaledLinearFn.apply(x, self.weight, self.bias, self.grad_scale)


class MultiTaskRegressor(nn.Module):
    """Shared trunk; its gradient is damped by the number of task heads that write into it."""

    def __init__(self, d_in=10, hidden=24, n_tasks=3):
        super().__init__()
        self.trunk = nn.Sequential(GradScaledLinear(d_in, hidden, grad_scale=1.0 / n_tasks), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(hidden, 1) for _ in range(n_tasks)])

    def forward(self, x):
        h = self.trunk(x)
        return torch.cat([head(h) for head in self.heads], dim=1)


def make_loader(n=40, bs=8):
    g = torch.Generator().manual_seed(10)
    x = torch.randn(n, 10, generator=g)
    y = torch.stack([x[:, 0] * 2, x[:, 1] - x[:, 2], x[:, 3].abs()], dim=1)
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def run(fabric, model, optimizer, loader, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.smooth_l1_loss(model(x), y)
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=1.0)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = MultiTaskRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    run(fabric, model, optimizer, fabric.setup_dataloaders(make_loader()))
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
