import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TanhAttention(torch.autograd.Function):
    """o = tanh(q k^T) v with a hand-written backward (memory-lean attention for short sequences)."""

    @staticmethod
    def forward(ctx, q, k, v):
        a = torch.tanh(q @ k.transpose(-2, -1))
        ctx.save_for_backward(q, k, v, a)
        return a @ v

    @staticmethod
    def backward(ctx, grad_o):
        q, k, v, a = ctx.saved_tensors
        grad_a = grad_o @ v.transpose(-2, -1)
        grad_x = grad_a * (1 - a * a)
        grad_q = grad_x @ k if ctx.needs_input_grad[0] else None
        grad_k = grad_x.transpose(-2, -1) @ q if ctx.needs_input_grad[1] else None
        grad_v = a.transpose(-2, -1) @ grad_o if ctx.needs_input_grad[2] else None
        return grad_q, grad_k, grad_v


class AttentionLayer(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.scale = dim ** -0.5

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return x + self.out(TanhAttention.apply(q * self.scale, k, v))


class SequenceClassifier(nn.Module):
    def __init__(self, vocab=30, dim=16, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.attn = AttentionLayer(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        return self.head(self.attn(self.embed(tokens)).mean(1))


def check_function():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 4, 3, dtype=torch.double, generator=g, requires_grad=True) for _ in range(3))
    return torch.autograd.gradcheck(TanhAttention.apply, (q, k, v))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(21)
    g = torch.Generator().manual_seed(21)
    tokens = torch.randint(0, 30, (32, 6), generator=g)
    labels = torch.randint(0, 3, (32,), generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True, generator=g))
    model = SequenceClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    for x, y in loader:
        optimizer.zero_grad()
        fabric.backward(F.cross_entropy(model(x), y))
        optimizer.step()
    return {"model": model.module}, {"gradcheck_passed": check_function()}

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
