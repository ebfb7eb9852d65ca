import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def set_requires_grad(nets, requires_grad=False):
    for net in nets if isinstance(nets, (list, tuple)) else [nets]:
        for p in net.parameters():
            p.requires_grad = requires_grad


class CondGenerator(nn.Module):
    def __init__(self, nz=8, n_classes=3, out=4):
        super().__init__()
        self.embed = nn.Embedding(n_classes, 4)
        self.net = nn.Sequential(nn.Linear(nz + 4, 32), nn.ReLU(), nn.Linear(32, out))

    def forward(self, z, c):
        return self.net(torch.cat([z, self.embed(c)], dim=1))


class CondDiscriminator(nn.Module):
    def __init__(self, inp=4, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(n_classes, 4)
        self.net = nn.Sequential(nn.Linear(inp + 4, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x, c):
        return self.net(torch.cat([x, self.embed(c)], dim=1))


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (64,), generator=g)
    data = torch.randn(64, 4, generator=g) * 0.3 + labels[:, None].float()
    loader = DataLoader(TensorDataset(data, labels), batch_size=16, shuffle=True, generator=g)
    G, D = CondGenerator(), CondDiscriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    g_before, d_before = G.net[0].weight.detach().clone(), D.net[0].weight.detach().clone()
    for epoch in range(2):
        for x, c in loader:
            ones, zeros = torch.ones(x.size(0), 1), torch.zeros(x.size(0), 1)
            fake = G(torch.randn(x.size(0), 8), c)
            set_requires_grad(D, True)
            opt_d.zero_grad()
            loss_d = bce(D(x, c), ones) + bce(D(fake.detach(), c), zeros)
            loss_d.backward()
            opt_d.step()
            set_requires_grad(D, False)
            opt_g.zero_grad()
            loss_g = bce(D(fake, c), ones)
            loss_g.backward()
            opt_g.step()
    facts = {"G_changed": not torch.equal(g_before, G.net[0].weight.detach()),
             "D_changed": not torch.equal(d_before, D.net[0].weight.detach())}
    return {"G": G}, facts

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
