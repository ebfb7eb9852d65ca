import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Expert(nn.Module):
    def __init__(self, dim=16, hidden=32):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.ff(x)


class TopKMoE(nn.Module):
    def __init__(self, dim=16, n_experts=4, k=2):
        super().__init__()
        self.router = nn.Linear(dim, n_experts, bias=False)
        self.experts = nn.ModuleList([Expert(dim) for _ in range(n_experts)])
        self.k = k

    def route(self, x):
        logits = self.router(x)
        _, idx = torch.topk(logits, self.k, dim=-1)
        weights = torch.full(idx.shape, 1.0 / self.k)
        return idx, weights, logits

    def forward(self, x):
        idx, weights, logits = self.route(x)
        gates = torch.zeros_like(logits).scatter(-1, idx, weights)
        expert_out = torch.stack([expert(x) for expert in self.experts], dim=-2)
        return (gates.unsqueeze(-1) * expert_out).sum(-2)


class MoEClassifier(nn.Module):
    def __init__(self, in_dim=10, dim=16, n_classes=3):
        super().__init__()
        self.embed = nn.Linear(in_dim, dim)
        self.moe = TopKMoE(dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        h = self.embed(x)
        h = self.norm(h + self.moe(h))
        return self.head(h)


def train(model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    model = MoEClassifier()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 10, generator=g)
    y = torch.randint(0, 3, (32,), generator=g)
    train(compiled, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), optimizer, scheduler)
    F.cross_entropy(compiled(x[:8]), y[:8]).backward()
    return {"moe": model.moe}

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
