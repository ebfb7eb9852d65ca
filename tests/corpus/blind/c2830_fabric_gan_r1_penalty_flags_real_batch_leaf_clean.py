import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class MappingGenerator(nn.Module):
    def __init__(self, z_dim=8, img_dim=16):
        super().__init__()
        self.mapping = nn.Sequential(nn.Linear(z_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32))
        self.synthesis = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(32, img_dim), nn.Tanh())

    def forward(self, z):
        return self.synthesis(self.mapping(z))


class Discriminator(nn.Module):
    def __init__(self, img_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(img_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                                 nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


def requires_grad(model, flag=True):
    for p in model.parameters():
        p.requires_grad = flag


@torch.no_grad()
def moment_gap(G, data, z_dim=8, n=64):
    fake = G(torch.randn(n, z_dim))
    return float((fake.mean(0) - data.mean(0)).abs().mean() + (fake.std(0) - data.std(0)).abs().mean())


def r1_penalty(discriminator, real):
    real = real.detach()
    real.requires_grad = True
    scores = discriminator(real)
    (grad_real,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
    return grad_real.pow(2).sum(dim=1).mean()


def train(fabric, G, D, g_opt, d_opt, loader, z_dim=8, r1_gamma=1.0, r1_every=2):
    step = 0
    for epoch in range(2):
        for (real,) in loader:
            requires_grad(G, False)
            requires_grad(D, True)
            z = torch.randn(real.shape[0], z_dim)
            fake = G(z)
            d_loss = F.softplus(D(fake.detach())).mean() + F.softplus(-D(real)).mean()
            if step % r1_every == 0:
                d_loss = d_loss + 0.5 * r1_gamma * r1_every * r1_penalty(D, real)
            d_opt.zero_grad()
            fabric.backward(d_loss)
            d_opt.step()

            requires_grad(G, True)
            requires_grad(D, False)
            g_loss = F.softplus(-D(G(z))).mean()
            g_opt.zero_grad()
            fabric.backward(g_loss)
            g_opt.step()
            step += 1
    return step


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    G, D = MappingGenerator(), Discriminator()
    g_before = G.mapping[0].weight.detach().clone()
    d_before = D.net[0].weight.detach().clone()
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.0, 0.99))
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.0, 0.99))
    G, g_opt = fabric.setup(G, g_opt)
    D, d_opt = fabric.setup(D, d_opt)
    data = torch.tanh(torch.randn(48, 16) * 0.5 + torch.linspace(-1, 1, 16))
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(data), batch_size=12, shuffle=True))
    steps = train(fabric, G, D, g_opt, d_opt, loader)
    fabric.print("moment gap", moment_gap(G, data))
    requires_grad(D, True)
    facts = {"generator_changed": not torch.equal(g_before, G.module.mapping[0].weight),
             "discriminator_changed": not torch.equal(d_before, D.module.net[0].weight),
             "steps": steps}
    return {"generator": G.module, "discriminator": D.module}, facts

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
