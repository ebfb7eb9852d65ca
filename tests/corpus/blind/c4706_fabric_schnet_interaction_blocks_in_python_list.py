import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"n_elements": 4, "hidden": 24, "n_rbf": 10, "cutoff": 3.0, "n_interactions": 2, "lr": 1e-3, "iters": 5,
       "force_weight": 2.0}


class CFConv(nn.Module):
    def __init__(self, hidden, n_rbf):
        super().__init__()
        self.filter_net = nn.Sequential(nn.Linear(n_rbf, hidden), nn.Softplus(), nn.Linear(hidden, hidden))
        self.in2f = nn.Linear(hidden, hidden, bias=False)
        self.f2out = nn.Sequential(nn.Linear(hidden, hidden), nn.Softplus(), nn.Linear(hidden, hidden))

    def forward(self, h, rbf, mask):
        w = self.filter_net(rbf) * mask.unsqueeze(-1)
        return self.f2out((self.in2f(h).unsqueeze(1) * w).sum(2))


class SchNetModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embedding = nn.Embedding(cfg["n_elements"], cfg["hidden"])
        self.register_buffer("offsets", torch.linspace(0, cfg["cutoff"], cfg["n_rbf"]))
        self.interactions = []
        for _ in range(cfg["n_interactions"]):
            self.interactions.append(CFConv(cfg["hidden"], cfg["n_rbf"]))
        self.atomwise = nn.Sequential(nn.Linear(cfg["hidden"], cfg["hidden"] // 2), nn.Softplus(), nn.Linear(cfg["hidden"] // 2, 1))
        self.cutoff = cfg["cutoff"]

    def forward(self, z, pos):
        d = (pos.unsqueeze(2) - pos.unsqueeze(1)).pow(2).sum(-1).add(1e-9).sqrt()
        rbf = torch.exp(-4.0 * (d.unsqueeze(-1) - self.offsets) ** 2)
        mask = (d < self.cutoff).float() * (1 - torch.eye(pos.size(1)))
        h = self.embedding(z)
        for block in self.interactions:
            h = h + block(h, rbf, mask)
        return self.atomwise(h).squeeze(-1).sum(-1)


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = SchNetModel(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    z = torch.randint(0, CFG["n_elements"], (6, 5), generator=g)
    pos = torch.randn(6, 5, 3, generator=g)
    e_ref = -(z.float() + 1).sum(-1)
    f_ref = 0.1 * torch.randn(6, 5, 3, generator=g)
    filt0 = model.module.interactions[0].filter_net[0].weight.detach().clone()
    out0 = model.module.atomwise[0].weight.detach().clone()
    for it in range(CFG["iters"]):
        p = pos.clone().requires_grad_(True)
        energy = model(z, p)
        forces = -torch.autograd.grad(energy.sum(), p, create_graph=True)[0]
        loss = F.mse_loss(energy, e_ref) + CFG["force_weight"] * F.mse_loss(forces, f_ref)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}, {
        "interactions_changed": not torch.equal(filt0, model.module.interactions[0].filter_net[0].weight),
        "atomwise_changed": not torch.equal(out0, model.module.atomwise[0].weight),
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
