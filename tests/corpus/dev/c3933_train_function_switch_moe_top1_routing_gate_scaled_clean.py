import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SwitchFFN(nn.Module):
    def __init__(self, dim=16, n_experts=4, hidden=32):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
                                     for _ in range(n_experts))
        self.last_load = None

    def forward(self, x):
        probs = F.softmax(self.router(x), dim=-1)
        gate, expert_idx = probs.max(dim=-1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            sel = expert_idx == e
            if sel.any():
                out[sel] = expert(x[sel])
        load = F.one_hot(expert_idx, len(self.experts)).float().mean(0)
        aux = len(self.experts) * (load * probs.mean(0)).sum()
        self.last_load = load.detach()
        return x + gate.unsqueeze(-1) * out, aux


class MoEClassifier(nn.Module):
    def __init__(self, d_in=8, dim=16, n_classes=3):
        super().__init__()
        self.embed = nn.Linear(d_in, dim)
        self.moe = SwitchFFN(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        h, aux = self.moe(self.embed(x))
        return self.head(h), aux


def train(model, loader, optimizer, epochs=3, aux_weight=0.01):
    history = []
    for _ in range(epochs):
        for x, y in loader:
            logits, aux = model(x)
            loss = F.cross_entropy(logits, y) + aux_weight * aux
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(model.moe.last_load.max().item())
    return history


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    model = MoEClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    r0 = model.moe.router.weight.detach().clone()
    train(model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True), optimizer)
    return {"model": model}, {"router_changed": not torch.equal(r0, model.moe.router.weight)}

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
