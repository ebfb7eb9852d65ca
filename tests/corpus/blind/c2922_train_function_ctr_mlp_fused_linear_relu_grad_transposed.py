import torch
import torch.nn as nn
import torch.nn.functional as F


class FusedLinearReLU(torch.autograd.Function):
    """relu(x @ W^T + b) in one node, keeping only the input and the activation mask."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        z = x @ weight.T + bias
        ctx.save_for_backward(x, weight, z > 0)
        return z.clamp_min(0)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mask = ctx.saved_tensors
        grad_z = grad_out * mask
        grad_x = grad_z @ weight
        grad_w = x.T @ grad_z
        grad_b = grad_z.sum(0)
        return grad_x, grad_w, grad_b


class FusedDense(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d_out, d_in))
        self.bias = nn.Parameter(torch.zeros(d_out))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def forward(self, x):
        return FusedLinearReLU.apply(x, self.weight, self.bias)


class DeepFM(nn.Module):
    """Factorization-machine interactions plus a deep tower over field embeddings (CTR prediction)."""

    def __init__(self, field_sizes=(10, 8, 6), emb=4, hidden=16):
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(n, emb) for n in field_sizes])
        self.linear = nn.ModuleList([nn.Embedding(n, 1) for n in field_sizes])
        d_in = emb * len(field_sizes)
        self.deep = nn.Sequential(FusedDense(d_in, hidden), FusedDense(hidden, hidden // 2))
        self.out = nn.Linear(hidden // 2, 1)

    def forward(self, fields):
        embs = torch.stack([e(fields[:, i]) for i, e in enumerate(self.embeddings)], dim=1)
        first = sum(l(fields[:, i]) for i, l in enumerate(self.linear)).squeeze(-1)
        fm = 0.5 * (embs.sum(1).pow(2) - embs.pow(2).sum(1)).sum(-1)
        deep = self.out(self.deep(embs.flatten(1))).squeeze(-1)
        return first + fm + deep


def make_clicks(n=64):
    g = torch.Generator().manual_seed(0)
    fields = torch.stack([torch.randint(0, s, (n,), generator=g) for s in (10, 8, 6)], dim=1)
    clicks = ((fields[:, 0] % 3 == 0) | (fields[:, 1] > 5)).float()
    return fields, clicks


def train(model, optimizer, fields, clicks, epochs=2, batch=16):
    model.train()
    for epoch in range(epochs):
        for i in range(0, len(fields), batch):
            logits = model(fields[i:i + batch])
            loss = F.binary_cross_entropy_with_logits(logits, clicks[i:i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = DeepFM()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
    deep_before = model.deep[0].weight.detach().clone()
    fields, clicks = make_clicks()
    train(model, optimizer, fields, clicks)
    return {"model": model}, {"deep_changed": not torch.equal(deep_before, model.deep[0].weight)}

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
