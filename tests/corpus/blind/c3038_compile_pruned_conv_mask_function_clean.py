import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ApplyMask(torch.autograd.Function):
    """w * mask with a hand-written backward (mask is a fixed 0/1 buffer)."""

    @staticmethod
    def forward(ctx, weight, mask):
        ctx.save_for_backward(mask)
        return weight * mask

    @staticmethod
    def backward(ctx, grad_out):
        (mask,) = ctx.saved_tensors
        return grad_out * mask, None


class MaskedConv2d(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("weight_mask", torch.ones_like(self.weight))

    def forward(self, x):
        return F.conv2d(x, ApplyMask.apply(self.weight, self.weight_mask), self.bias, self.stride, self.padding)


class MaskedLinear(nn.Linear):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("weight_mask", torch.ones_like(self.weight))

    def forward(self, x):
        return F.linear(x, ApplyMask.apply(self.weight, self.weight_mask), self.bias)


def magnitude_prune_(model, sparsity=0.5):
    for m in model.modules():
        if isinstance(m, (MaskedConv2d, MaskedLinear)):
            k = int(sparsity * m.weight.numel())
            threshold = m.weight.detach().abs().flatten().kthvalue(k).values
            m.weight_mask.copy_((m.weight.detach().abs() > threshold).float())


def main():
    torch.manual_seed(0)
    net = nn.Sequential(MaskedConv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), MaskedLinear(32, 4))
    magnitude_prune_(net)
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 4, (24,), generator=g)),
                        batch_size=8, shuffle=True, generator=g)
    w0 = net[0].weight.detach().clone()
    for epoch in range(2):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    kept = net[0].weight_mask.bool()
    facts = {"kept_weights_changed": not torch.equal(w0[kept], net[0].weight.detach()[kept]),
             "pruned_weights_changed": not torch.equal(w0[~kept], net[0].weight.detach()[~kept])}
    return {"net": net}, facts

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
