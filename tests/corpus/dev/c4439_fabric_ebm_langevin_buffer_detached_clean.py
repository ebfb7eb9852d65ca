import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"buffer": 64, "bs": 16, "k": 10, "step": 1.0, "noise": 0.005, "reinit": 0.05, "lr": 1e-4, "alpha": 0.1,
       "epochs": 2, "n_classes": 4}


class JEMClassifier(nn.Module):
    """Joint energy model: logits f(x)[y] double as an unnormalised density, E(x) = -logsumexp f(x)."""

    def __init__(self, d=8, hidden=32, n_classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.head(self.body(x))

    def energy(self, x):
        return -torch.logsumexp(self(x), dim=-1)


def sample_q(model, buffer, n, cfg):
    idx = torch.randint(0, len(buffer), (n,))
    x = buffer[idx]
    fresh = (torch.rand(n) < cfg["reinit"])[:, None]
    x = torch.where(fresh, torch.rand_like(x) * 2 - 1, x)
    x_k = x.clone().detach().requires_grad_(True)
    model.eval()
    for _ in range(cfg["k"]):
        g = torch.autograd.grad(model.energy(x_k).sum(), [x_k])[0]
        x_k.data -= cfg["step"] * g + cfg["noise"] * torch.randn_like(x_k)
    model.train()
    final = x_k.detach()
    buffer[idx] = final
    return final


def batches(n=64, d=8, n_classes=4, bs=16):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    x = F.one_hot(y, d).float() + 0.3 * torch.randn(n, d, generator=g)
    return [(x[i:i + bs], y[i:i + bs]) for i in range(0, n, bs)]


def train_one_epoch(fabric, model, optimizer, buffer, data, cfg):
    for x, y in data:
        logits = model(x)
        x_q = sample_q(model, buffer, x.shape[0], cfg)
        e_pos, e_neg = model.energy(x), model.energy(x_q)
        loss = F.cross_entropy(logits, y) + (e_pos.mean() - e_neg.mean()) + cfg["alpha"] * (e_pos ** 2 + e_neg ** 2).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = JEMClassifier(n_classes=CFG["n_classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"], betas=(0.0, 0.999))
    model, optimizer = fabric.setup(model, optimizer)
    buffer = torch.rand(CFG["buffer"], 8) * 2 - 1
    body0 = model.module.body[0].weight.detach().clone()
    data = batches()
    for epoch in range(CFG["epochs"]):
        train_one_epoch(fabric, model, optimizer, buffer, data, CFG)
    return {"model": model.module}, {
        "body_changed": not torch.equal(body0, model.module.body[0].weight),
        "buffer_requires_grad": buffer.requires_grad,
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
