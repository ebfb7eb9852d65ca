import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

MODEL_CFG = {"in_ch": 3, "d_model": 16, "d_state": 4, "n_layers": 2, "classes": 4, "seq_len": 20}
OPT_CFG = {"lr": 2e-3, "weight_decay": 0.01, "epochs": 2, "batch_size": 8}


def selective_scan(x, dt, A, Bm, Cm):
    """x, dt: (B, L, D); A: (D, N); Bm, Cm: (B, L, N) -> y: (B, L, D)"""
    Bsz, L, D = x.shape
    N = A.size(1)
    dA = torch.exp(dt.unsqueeze(-1) * A)                       # (B, L, D, N)
    dBx = dt.unsqueeze(-1) * Bm.unsqueeze(2) * x.unsqueeze(-1)  # (B, L, D, N)
    states = x.new_zeros(Bsz, L, D, N)
    for t in range(L):
        prev = states[:, t - 1] if t > 0 else x.new_zeros(Bsz, D, N)
        h = dA[:, t] * prev + dBx[:, t]
        states[:, t] = h
    return (states * Cm.unsqueeze(2)).sum(-1)


class MambaBlock(nn.Module):
    def __init__(self, d_model, d_state):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.in_proj = nn.Linear(d_model, 2 * d_model)
        self.conv = nn.Conv1d(d_model, d_model, 3, padding=2, groups=d_model)
        self.x_proj = nn.Linear(d_model, 1 + 2 * d_state)
        self.dt_proj = nn.Linear(1, d_model)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()).repeat(d_model, 1))
        self.D = nn.Parameter(torch.ones(d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        self.d_state = d_state

    def forward(self, x):
        L = x.size(1)
        u, z = self.in_proj(self.norm(x)).chunk(2, -1)
        u = F.silu(self.conv(u.transpose(1, 2))[..., :L].transpose(1, 2))
        dt, Bm, Cm = self.x_proj(u).split([1, self.d_state, self.d_state], -1)
        dt = F.softplus(self.dt_proj(dt))
        y = selective_scan(u, dt, -self.A_log.exp(), Bm, Cm) + self.D * u
        return x + self.out_proj(y * F.silu(z))


class MambaClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.stem = nn.Linear(cfg["in_ch"], cfg["d_model"])
        self.layers = nn.ModuleList(MambaBlock(cfg["d_model"], cfg["d_state"]) for _ in range(cfg["n_layers"]))
        self.head = nn.Linear(cfg["d_model"], cfg["classes"])

    def forward(self, x):
        h = self.stem(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(h.mean(1))


def har_like_data(cfg, n=32):
    """Accelerometer-like windows: class decides the dominant frequency."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, cfg["classes"], (n,), generator=g)
    t = torch.linspace(0, 1, cfg["seq_len"])
    x = torch.sin(2 * torch.pi * (y[:, None, None] + 1) * t[None, :, None]).expand(n, cfg["seq_len"], cfg["in_ch"])
    return TensorDataset(x + 0.1 * torch.randn(x.shape, generator=g), y)


def train_one_epoch(model, loader, optimizer, accelerator):
    model.train()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MambaClassifier(MODEL_CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=OPT_CFG["lr"], weight_decay=OPT_CFG["weight_decay"])
    loader = DataLoader(har_like_data(MODEL_CFG), batch_size=OPT_CFG["batch_size"], shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.layers[0].x_proj.weight.detach().clone()
    for epoch in range(OPT_CFG["epochs"]):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {"x_proj_changed": not torch.equal(w0, model.layers[0].x_proj.weight)}

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
