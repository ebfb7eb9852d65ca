import torch
import torch.nn as nn
import torch.nn.functional as F


class SignSTE(torch.autograd.Function):
    """sign() in the forward pass, hard-tanh straight-through gradient in the backward pass."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1).to(grad_output.dtype)


binarize = SignSTE.apply


class BinaryLinear(nn.Linear):
    """Keeps real-valued latent weights; the forward pass uses their signs."""

    def forward(self, x):
        return F.linear(binarize(x), binarize(self.weight), self.bias)


class BinaryMLP(nn.Module):
    def __init__(self, n_in=16, hidden=32, n_out=2):
        super().__init__()
        self.fc_in = nn.Linear(n_in, hidden)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.bin1 = BinaryLinear(hidden, hidden)
        self.bn2 = nn.BatchNorm1d(hidden)
        self.fc_out = nn.Linear(hidden, n_out)

    def forward(self, x):
        h = F.hardtanh(self.bn1(self.fc_in(x)))
        h = F.hardtanh(self.bn2(self.bin1(h)))
        return self.fc_out(h)


def clip_latent_weights(model, bound=1.0):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, BinaryLinear):
                module.weight.clamp_(-bound, bound)


def batches(n_batches=8, batch=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        x = torch.randn(batch, 16, generator=g)
        yield x, (x[:, :8].sum(dim=1) > x[:, 8:].sum(dim=1)).long()


def train(model, optimizer, epochs=2):
    model.train()
    for epoch in range(epochs):
        for x, y in batches(seed=epoch):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            clip_latent_weights(model)
    return model


def main():
    torch.manual_seed(0)
    model = BinaryMLP()
    latent_before = model.bin1.weight.detach().clone()
    fc_in_before = model.fc_in.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, optimizer)
    facts = {"latent_weights_changed": not torch.equal(latent_before, model.bin1.weight),
             "input_layer_changed": not torch.equal(fc_in_before, model.fc_in.weight),
             "latent_within_bound": bool(model.bin1.weight.abs().max() <= 1.0)}
    return {"model": model}, facts

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
