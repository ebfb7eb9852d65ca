import torch
import torch.nn as nn

CFG = {"buffer_size": 64, "batch": 16, "sgld_steps": 5, "sgld_lr": 0.1, "sgld_noise": 0.01,
       "reinit_freq": 0.05, "lr": 1e-3, "alpha_l2": 0.1, "epochs": 3}


class EnergyNet(nn.Module):
    def __init__(self, d=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class ReplayBuffer:
    def __init__(self, size, d=2):
        self.data = torch.rand(size, d) * 4 - 2

    def sample(self, n, reinit_freq):
        idx = torch.randint(0, len(self.data), (n,))
        x = self.data[idx].clone()
        fresh = torch.rand(n) < reinit_freq
        x[fresh] = torch.rand(int(fresh.sum()), x.shape[1]) * 4 - 2
        return x, idx

    def push(self, idx, x_neg):
        self.data[idx] = x_neg


def sgld(energy, x, steps, lr, noise):
    x = x.requires_grad_(True)
    for _ in range(steps):
        grad = torch.autograd.grad(energy(x).sum(), x)[0]
        x = x - lr * grad + noise * torch.randn_like(x)
    return x


def two_moons(n, g):
    t = torch.rand(n, generator=g) * 3.14159
    upper = torch.rand(n, generator=g) < 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    return torch.stack([x, y], -1) + 0.05 * torch.randn(n, 2, generator=g)


def train_one_epoch(energy, optimizer, buffer, data, cfg):
    for i in range(0, len(data), cfg["batch"]):
        x_pos = data[i:i + cfg["batch"]]
        x_init, idx = buffer.sample(len(x_pos), cfg["reinit_freq"])
        x_neg = sgld(energy, x_init, cfg["sgld_steps"], cfg["sgld_lr"], cfg["sgld_noise"])
        buffer.push(idx, x_neg)
        e_pos, e_neg = energy(x_pos), energy(x_neg)
        loss = e_pos.mean() - e_neg.mean() + cfg["alpha_l2"] * (e_pos ** 2 + e_neg ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    energy = EnergyNet()
    optimizer = torch.optim.Adam(energy.parameters(), lr=CFG["lr"], betas=(0.0, 0.999))
    buffer = ReplayBuffer(CFG["buffer_size"])
    data = two_moons(64, g)
    w0 = energy.net[0].weight.detach().clone()
    for epoch in range(CFG["epochs"]):
        train_one_epoch(energy, optimizer, buffer, data, CFG)
    return {"energy": energy}, {"energy_changed": not torch.equal(w0, energy.net[0].weight)}

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
