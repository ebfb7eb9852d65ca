import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, out_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, out_dim))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, in_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                                 nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


def clip_weights(module, c=0.01):
    for p in module.parameters():
        p.data.clamp_(-c, c)


def train_wgan(G, D, loader, z_dim=8, n_critic=3, epochs=2):
    opt_g = torch.optim.RMSprop(G.parameters(), lr=5e-4)
    opt_d = torch.optim.RMSprop(D.parameters(), lr=5e-4)
    clip_weights(D)
    step = 0
    for _ in range(epochs):
        for (real,) in loader:
            z = torch.randn(real.shape[0], z_dim)
            fake = G(z).detach()
            loss_d = D(fake).mean() - D(real).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            clip_weights(D)
            step += 1
            if step % n_critic == 0:
                for p in D.parameters():
                    p.requires_grad_(False)
                loss_g = -D(G(torch.randn(real.shape[0], z_dim))).mean()
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                for p in D.parameters():
                    p.requires_grad_(True)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(96, 16, generator=g) * 0.5 + 1.0
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True, generator=g)
    G, D = Generator(), Critic()
    g_before = G.net[0].weight.detach().clone()
    train_wgan(G, D, loader)
    max_abs = max(p.abs().max().item() for p in D.parameters())
    return ({"G": G, "D": D},
            {"generator_changed": not torch.equal(g_before, G.net[0].weight), "critic_weights_clipped": max_abs <= 0.01})

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
