import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TernaryQuantize(torch.autograd.Function):
    """Trained ternary quantization: w -> {-Wn, 0, +Wp} with a threshold; STE to the latent weights."""

    @staticmethod
    def forward(ctx, w, scale, t=0.05):
        delta = t * w.abs().max()
        pos, neg = (w > delta).float(), (w < -delta).float()
        ctx.save_for_backward(pos, neg)
        return scale[0] * pos - scale[1] * neg

    @staticmethod
    def backward(ctx, grad_out):
        pos, neg = ctx.saved_tensors
        grad_scale = torch.stack([(grad_out * pos).sum(), -(grad_out * neg).sum()])
        return grad_out, grad_scale, None  # straight-through to the latent weights


class TernaryLinear(nn.Linear):
    def forward(self, x, scale):
        return F.linear(x, TernaryQuantize.apply(self.weight, scale), self.bias)


class TernaryMLP(nn.Module):
    def __init__(self, in_dim=16, hidden=32, n_classes=4):
        super().__init__()
        self.fc1 = TernaryLinear(in_dim, hidden)
        self.fc2 = TernaryLinear(hidden, n_classes)

    def forward(self, x, scales):
        return self.fc2(F.relu(self.fc1(x, scales[0])), scales[1])


def init_scaling_factors(model, init_scale=0.1):
    layers = [m for m in model.modules() if isinstance(m, TernaryLinear)]
    return [torch.ones(2, requires_grad=True) * init_scale for _ in layers]


def train(fabric, model, optimizer, scales, loader, scale_lr=1e-2, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            for s in scales:
                s.grad = None
            loss = F.cross_entropy(model(x, scales), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            with torch.no_grad():
                for s in scales:
                    s -= scale_lr * s.grad
    return loss.item()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    x = torch.randn(32, 16)
    y = (x[:, :4].argmax(dim=1))
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True))
    net = TernaryMLP()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(net, optimizer)
    scales = init_scaling_factors(net)
    train(fabric, model, optimizer, scales, loader)
    return {"model": net, "scale_fc1": scales[0]}

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
