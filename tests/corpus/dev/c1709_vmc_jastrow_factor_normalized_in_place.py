import torch
import torch.nn as nn


class Orbitals(nn.Module):
    """Single-particle orbitals from a small MLP on electron coordinates."""

    def __init__(self, n_elec=2, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.n_elec = n_elec

    def forward(self, pos):
        return self.net(pos).squeeze(-1).prod(dim=-1)


class PadeJastrow(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.5))
        self.b = nn.Parameter(torch.tensor(1.0))

    def forward(self, pos):
        r = (pos[:, 0] - pos[:, 1]).norm(dim=-1)
        jast = torch.exp(self.a * r / (1.0 + self.b * r))
        jast /= jast.max()  # keep the factor in (0, 1] for numerical stability
        return jast


class WaveFunction(nn.Module):
    def __init__(self):
        super().__init__()
        self.orbitals = Orbitals()
        self.jastrow = PadeJastrow()

    def forward(self, pos):
        return self.orbitals(pos) * self.jastrow(pos)


def potential(pos, charge=2.0):
    r1, r2 = pos[:, 0].norm(dim=-1), pos[:, 1].norm(dim=-1)
    r12 = (pos[:, 0] - pos[:, 1]).norm(dim=-1)
    return -charge / r1 - charge / r2 + 1.0 / r12


def variational_energy(wf, pos):
    psi = wf(pos)
    weights = psi ** 2 / (psi ** 2).sum()
    return (weights * potential(pos)).sum()


def train(wf, sampler, optimizer, n_steps=5):
    history = []
    for _ in range(n_steps):
        pos = sampler()
        optimizer.zero_grad()
        energy = variational_energy(wf, pos)
        energy.backward()
        optimizer.step()
        history.append(energy.item())
    return history


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    sampler = lambda: torch.randn(64, 2, 3, generator=g) + 0.1
    wf = WaveFunction()
    optimizer = torch.optim.Adam(wf.parameters(), lr=1e-2)
    train(wf, sampler, optimizer)
    return {"wf": wf}

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
