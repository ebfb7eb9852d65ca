import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SNLinear(nn.Module):
    """Linear layer with spectral normalisation: one power iteration per forward, u kept as a buffer."""

    def __init__(self, d_in, d_out, eps=1e-12):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(d_out))
        self.register_buffer("u", F.normalize(torch.randn(d_out), dim=0))
        self.eps = eps

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                v = F.normalize(self.weight.t() @ self.u, dim=0, eps=self.eps)
                u = F.normalize(self.weight @ v, dim=0, eps=self.eps)
                self.u.copy_(u)
        u = self.u.clone(memory_format=torch.contiguous_format)
        v = F.normalize(self.weight.t() @ u, dim=0, eps=self.eps)
        sigma = torch.dot(u, self.weight @ v)
        return F.linear(x, self.weight / sigma, self.bias)


class Discriminator(nn.Module):
    def __init__(self, d_in=8, hidden=32):
        super().__init__()
        self.l1, self.l2, self.out = SNLinear(d_in, hidden), SNLinear(hidden, hidden), SNLinear(hidden, 1)

    def forward(self, x):
        return self.out(F.leaky_relu(self.l2(F.leaky_relu(self.l1(x), 0.1)), 0.1))


class Generator(nn.Module):
    def __init__(self, z_dim=4, d_out=8, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, d_out))

    def forward(self, z):
        return self.net(z)


def train(G, D, D_compiled, loader, opt_g, opt_d, z_dim=4):
    for (real,) in loader:
        z = torch.randn(real.shape[0], z_dim)
        d_loss = F.relu(1 - D_compiled(real)).mean() + F.relu(1 + D_compiled(G(z).detach())).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -D_compiled(G(torch.randn(real.shape[0], z_dim))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()


def main():
    torch.manual_seed(0)
    real = torch.randn(48, 8) * 0.5 + 1.0
    loader = DataLoader(TensorDataset(real), batch_size=16, shuffle=True)
    G, D = Generator(), Discriminator()
    D_compiled = torch.compile(D, backend="eager")
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.0, 0.9))
    u_before = D.l1.u.clone()
    train(G, D, D_compiled, loader, opt_g, opt_d)
    facts = {"u_updated": not torch.equal(u_before, D.l1.u)}
    return {"G": G, "D": D}, facts

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
