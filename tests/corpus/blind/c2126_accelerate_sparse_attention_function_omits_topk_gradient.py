import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TopKAttentionFn(torch.autograd.Function):
    """Attention that keeps only the top-k scores per query (mask computed in forward, reused in backward)."""

    @staticmethod
    def forward(ctx, q, k, v, topk):
        scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        kth = scores.topk(topk, dim=-1).values[..., -1:]
        masked = scores.masked_fill(scores < kth, float("-inf"))
        attn = masked.softmax(dim=-1)
        ctx.save_for_backward(q, k, v, attn)
        return attn @ v

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, attn = ctx.saved_tensors
        grad_v = attn.transpose(-1, -2) @ grad_out
        grad_attn = grad_out @ v.transpose(-1, -2)
        grad_scores = attn * (grad_attn - (grad_attn * attn).sum(-1, keepdim=True)) / q.shape[-1] ** 0.5
        grad_q = grad_scores @ k
        grad_k = grad_scores.transpose(-1, -2) @ q
        return grad_q, grad_k, grad_v


class SparseAttentionBlock(nn.Module):
    def __init__(self, dim=16, topk=3):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.topk = topk

    def forward(self, x):
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        return x + self.proj(TopKAttentionFn.apply(q, k, v, self.topk))


class EventClassifier(nn.Module):
    def __init__(self, dim=16, n_cls=4):
        super().__init__()
        self.inp = nn.Linear(5, dim)
        self.block = SparseAttentionBlock(dim)
        self.head = nn.Linear(dim, n_cls)

    def forward(self, x):
        return self.head(self.block(self.inp(x)).mean(dim=1))


def main():
    set_seed(0)
    accelerator = Accelerator()
    x, y = torch.randn(16, 7, 5), torch.randint(0, 4, (16,))
    model = EventClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}

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
