import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden)
        self.w2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.w2(F.gelu(self.w1(x)))


class SwitchFFN(nn.Module):
    def __init__(self, dim, hidden, n_experts, capacity_factor=1.5):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = [FeedForward(dim, hidden) for _ in range(n_experts)]
        self.capacity_factor = capacity_factor

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        probs = torch.softmax(self.router(tokens), -1)
        gate, idx = probs.max(-1)
        capacity = int(self.capacity_factor * tokens.shape[0] / len(self.experts)) + 1
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            rows = (idx == e).nonzero(as_tuple=True)[0][:capacity]
            if rows.numel():
                out = out.index_add(0, rows, gate[rows, None] * expert(tokens[rows]))
        frac = torch.bincount(idx, minlength=len(self.experts)).float() / tokens.shape[0]
        aux = len(self.experts) * (frac * probs.mean(0)).sum()
        return out.view_as(x), aux


class SwitchTransformerBlock(nn.Module):
    def __init__(self, dim, hidden, n_experts):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.moe = SwitchFFN(dim, hidden, n_experts)

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        m, aux = self.moe(self.norm2(x))
        return x + m, aux


class SwitchClassifier(nn.Module):
    def __init__(self, vocab, dim, hidden, n_experts, n_classes):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.block = SwitchTransformerBlock(dim, hidden, n_experts)
        self.cls = nn.Linear(dim, n_classes)

    def forward(self, ids):
        h, aux = self.block(self.tok(ids))
        return self.cls(h.mean(1)), aux


def train_one_epoch(fabric, model, optimizer, loader, aux_weight):
    for ids, y in loader:
        logits, aux = model(ids)
        loss = F.cross_entropy(logits, y) + aux_weight * aux
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = SwitchClassifier(vocab=30, dim=16, hidden=32, n_experts=4, n_classes=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    fmodel, foptimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 30, (48, 8), generator=g)
    y = ids[:, 0] % 3
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(ids, y), batch_size=12, shuffle=True))
    experts0 = [e.w1.weight.detach().clone() for e in model.block.moe.experts]
    router0 = model.block.moe.router.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(fabric, fmodel, foptimizer, loader, aux_weight=0.01)
    experts_changed = any(not torch.equal(w0, e.w1.weight) for w0, e in zip(experts0, model.block.moe.experts))
    return {"model": model, "expert0_w1": model.block.moe.experts[0].w1.weight}, {
        "experts_changed": experts_changed,
        "router_changed": not torch.equal(router0, model.block.moe.router.weight),
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
