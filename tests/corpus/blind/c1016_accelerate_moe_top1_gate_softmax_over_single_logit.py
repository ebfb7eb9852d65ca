import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Expert(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))

    def forward(self, x):
        return self.net(x)


class SparseMoE(nn.Module):
    """Noisy top-k gating (Shazeer et al.); k=1 here to keep a single expert per token."""

    def __init__(self, d=16, num_experts=4, k=1, hidden=32):
        super().__init__()
        self.k = k
        self.w_gate = nn.Linear(d, num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(d, hidden) for _ in range(num_experts))

    def forward(self, x):
        logits = self.w_gate(x)
        top_logits, top_idx = logits.topk(self.k, dim=-1)
        gates = F.softmax(top_logits, dim=-1)
        out = torch.zeros_like(x)
        for slot in range(self.k):
            for e, expert in enumerate(self.experts):
                sel = top_idx[:, slot] == e
                if sel.any():
                    out[sel] += gates[sel, slot, None] * expert(x[sel])
        return out


class MoERegressor(nn.Module):
    def __init__(self, in_dim=10, d=16):
        super().__init__()
        self.inp = nn.Linear(in_dim, d)
        self.moe = SparseMoE(d)
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.moe(h)).squeeze(-1)


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 10, generator=g)
    y = torch.sin(x[:, 0]) + x[:, 1] ** 2
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = MoERegressor()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for _ in range(2):
        for xb, yb in loader:
            loss = F.mse_loss(model(xb), yb)
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
