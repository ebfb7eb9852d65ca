import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 12, "d": 32, "experts": 4, "classes": 3, "aux_coef": 0.01, "z_coef": 1e-3, "lr": 3e-3, "epochs": 2}


class SwitchFFN(nn.Module):
    """Top-1 (Switch) routing with the load-balancing and router z-losses collected on the module."""

    def __init__(self, d, n_experts):
        super().__init__()
        self.router = nn.Linear(d, n_experts)
        self.experts = nn.ModuleList([nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
                                      for _ in range(n_experts)])
        self.aux_loss = torch.zeros(())

    def reset_aux(self):
        self.aux_loss = torch.zeros(())

    def forward(self, x):
        logits = self.router(x)
        probs = logits.softmax(-1)
        gate, idx = probs.max(-1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            sel = idx == e
            if sel.any():
                out[sel] = gate[sel].unsqueeze(-1) * expert(x[sel])
        frac = F.one_hot(idx, probs.size(-1)).float().mean(0)
        balance = probs.size(-1) * (frac * probs.mean(0)).sum()
        z_loss = torch.logsumexp(logits, -1).pow(2).mean()
        self.aux_loss = self.aux_loss + balance + CFG["z_coef"] / CFG["aux_coef"] * z_loss
        return x + out


class SwitchClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.inp = nn.Linear(cfg["in_dim"], cfg["d"])
        self.moe = SwitchFFN(cfg["d"], cfg["experts"])
        self.head = nn.Linear(cfg["d"], cfg["classes"])

    def forward(self, x):
        return self.head(self.moe(torch.relu(self.inp(x))))


def train(fabric, model, optimizer, loader, cfg):
    for _ in range(cfg["epochs"]):
        model.moe.reset_aux()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y) + cfg["aux_coef"] * model.moe.aux_loss
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, CFG["in_dim"], generator=g)
    loader = DataLoader(TensorDataset(x, x[:, :CFG["classes"]].argmax(-1)), batch_size=16, shuffle=True, generator=g)
    model = SwitchClassifier(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    train(fabric, model, optimizer, fabric.setup_dataloaders(loader), CFG)
    return {"model": model.module}

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
