import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Expert(nn.Module):
    def __init__(self, d, hidden, dtype):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden, dtype=dtype)
        self.fc2 = nn.Linear(hidden, d, dtype=dtype)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class SparseMoE(nn.Module):
    """Noisy top-k mixture of experts; the whole regression model runs in float64."""

    def __init__(self, d=6, n_experts=4, k=2, hidden=12, dtype=torch.float64):
        super().__init__()
        self.k = k
        self.experts = nn.ModuleList([Expert(d, hidden, dtype) for _ in range(n_experts)])
        self.w_gate = nn.Parameter(torch.zeros(d, n_experts), requires_grad=True).to(dtype)
        self.head = nn.Linear(d, 1, dtype=dtype)

    def gates(self, x):
        logits = x @ self.w_gate
        top_vals, top_idx = logits.topk(self.k, dim=-1)
        weights = torch.zeros_like(logits).scatter(-1, top_idx, torch.softmax(top_vals, dim=-1))
        return weights

    def forward(self, x):
        g = self.gates(x)
        expert_out = torch.stack([e(x) for e in self.experts], dim=1)
        mixed = (g.unsqueeze(-1) * expert_out).sum(dim=1)
        importance = g.sum(0)
        balance = importance.var() / (importance.mean() ** 2 + 1e-9)
        return self.head(mixed).squeeze(-1), balance


def make_loader(n=48, d=6):
    x = torch.randn(n, d, dtype=torch.float64)
    y = torch.where(x[:, 0] > 0, x[:, 1] * 2.0, -x[:, 2])
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True)


def main():
    fabric = Fabric(accelerator="cpu", devices=1, precision="64-true")
    fabric.seed_everything(0)
    moe = SparseMoE()
    optimizer = torch.optim.Adam(moe.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(moe, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    gate0 = moe.w_gate.detach().clone()
    head0 = moe.head.weight.detach().clone()
    for _ in range(2):
        for x, y in loader:
            pred, balance = model(x)
            loss = F.mse_loss(pred, y) + 0.01 * balance
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"moe": moe}, {
        "gate_is_leaf": moe.w_gate.is_leaf,
        "gate_changed": not torch.equal(gate0, moe.w_gate),
        "head_changed": not torch.equal(head0, moe.head.weight),
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
