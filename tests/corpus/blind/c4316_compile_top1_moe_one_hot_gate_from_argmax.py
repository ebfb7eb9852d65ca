import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def hard_route(router_logits):
    """Top-1 routing: each token goes to exactly one expert."""
    choice = router_logits.argmax(-1)
    return F.one_hot(choice, router_logits.shape[-1]).to(router_logits.dtype)


class ExpertMLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)


class Top1MoE(nn.Module):
    def __init__(self, dim, hidden, n_experts):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList([ExpertMLP(dim, hidden) for _ in range(n_experts)])

    def forward(self, x):
        gate = hard_route(self.router(x))                                  # (N, E)
        expert_out = torch.stack([e(x) for e in self.experts], 1)          # (N, E, D)
        return (gate.unsqueeze(-1) * expert_out).sum(1), gate


class MoETabularNet(nn.Module):
    def __init__(self, in_dim, dim, hidden, n_experts):
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(in_dim, dim), nn.LayerNorm(dim))
        self.moe = Top1MoE(dim, hidden, n_experts)
        self.out = nn.Linear(dim, 1)

    def forward(self, x):
        h = self.inp(x)
        m, gate = self.moe(h)
        return self.out(h + m).squeeze(-1), gate


def train_one_epoch(step_fn, loader, optimizer):
    usage = 0
    for x, y in loader:
        pred, gate = step_fn(x)
        loss = F.smooth_l1_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        usage = usage + gate.detach().sum(0)
    return usage


def main():
    torch.manual_seed(0)
    model = MoETabularNet(in_dim=6, dim=16, hidden=32, n_experts=4)
    step_fn = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 6, generator=g)
    y = torch.where(x[:, 0] > 0, x[:, 1] * 2, -x[:, 2])
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g, drop_last=True)
    router0 = model.moe.router.weight.detach().clone()
    experts0 = [e.net[0].weight.detach().clone() for e in model.moe.experts]
    for _ in range(2):
        train_one_epoch(step_fn, loader, optimizer)
    return {"model": model}, {
        "router_changed": not torch.equal(router0, model.moe.router.weight),
        "experts_changed": any(not torch.equal(w, e.net[0].weight) for w, e in zip(experts0, model.moe.experts)),
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
