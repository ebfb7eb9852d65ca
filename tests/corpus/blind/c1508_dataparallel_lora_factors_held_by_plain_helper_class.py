import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LoRADelta:
    """Low-rank update B @ A added to a frozen projection (kept as a lightweight helper, not a layer)."""

    def __init__(self, in_features, out_features, rank=4, alpha=8.0):
        self.A = nn.Parameter(torch.randn(rank, in_features) / math.sqrt(in_features))
        self.B = nn.Parameter(torch.zeros(out_features, rank))
        self.scale = alpha / rank

    def __call__(self, x):
        return (x @ self.A.t() @ self.B.t()) * self.scale


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank=4):
        super().__init__()
        self.base = base
        self.base.requires_grad_(False)
        self.lora = LoRADelta(base.in_features, base.out_features, rank)

    def forward(self, x):
        return self.base(x) + self.lora(x)


class IntentClassifier(nn.Module):
    def __init__(self, in_dim=24, hidden=32, n_intents=5):
        super().__init__()
        self.proj = nn.Linear(in_dim, hidden)
        self.mix = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, n_intents)

    def forward(self, x):
        return self.head(F.gelu(self.mix(F.gelu(self.proj(x)))))


def add_lora(model, rank=4):
    model.proj = LoRALinear(model.proj, rank)
    model.mix = LoRALinear(model.mix, rank)
    return model


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(53)
    x = torch.randn(64, 24, generator=g)
    y = torch.randint(0, 5, (64,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    net = add_lora(IntentClassifier())
    model = nn.DataParallel(net)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-3)
    b0 = net.proj.lora.B.detach().clone()
    for epoch in range(2):
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    return ({"net": net, "proj_lora_B": net.proj.lora.B, "mix_lora_A": net.mix.lora.A},
            {"lora_B_changed": not torch.equal(b0, net.proj.lora.B),
             "trainable_tensors_in_optimizer": sum(len(grp["params"]) for grp in optimizer.param_groups)})

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
