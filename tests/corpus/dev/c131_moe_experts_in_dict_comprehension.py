import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

EXPERTS = ("syntax", "semantics", "numbers", "style")


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class MoELayer(nn.Module):
    def __init__(self, dim=16, hidden=32, names=EXPERTS, top_k=2):
        super().__init__()
        self.router = nn.Linear(dim, len(names))
        self.experts = {name: Expert(dim, hidden) for name in names}
        self.names, self.top_k = list(names), top_k

    def forward(self, x):
        gate = self.router(x).softmax(dim=-1)
        weights, idx = gate.topk(self.top_k, dim=-1)
        out = torch.zeros_like(x)
        for slot in range(self.top_k):
            for e, name in enumerate(self.names):
                sel = idx[:, slot] == e
                if sel.any():
                    out[sel] += weights[sel, slot, None] * self.experts[name](x[sel])
        return x + out


class MoEClassifier(nn.Module):
    def __init__(self, in_dim=10, dim=16, n_classes=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.moe = MoELayer(dim)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.out(self.moe(self.inp(x)))


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 10), torch.randint(0, 3, (48,))), batch_size=16, shuffle=True)
    model = MoEClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    expert_before = {n: e.fc1.weight.detach().clone() for n, e in model.moe.experts.items()}
    for epoch in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    facts = {
        "experts_changed": any(not torch.equal(w, model.moe.experts[n].fc1.weight.detach())
                               for n, w in expert_before.items()),
        "expert_keys_in_state_dict": sum(k.startswith("moe.experts") for k in model.state_dict()),
    }
    used = next(n for n in EXPERTS if model.moe.experts[n].fc1.weight.grad is not None)
    return {"model": model, "expert": model.moe.experts[used]}, facts

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
