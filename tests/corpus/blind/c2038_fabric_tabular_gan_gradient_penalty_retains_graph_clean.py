import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, d_out=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, d_out))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, d_in=6, pac=2):
        super().__init__()
        self.pac = pac
        self.net = nn.Sequential(nn.Linear(d_in * pac, 32), nn.LeakyReLU(0.2), nn.Dropout(0.2), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x.view(-1, x.size(1) * self.pac))

    def gradient_penalty(self, real, fake, lambda_=10.0):
        alpha = torch.rand(real.size(0) // self.pac, 1, 1).repeat(1, self.pac, real.size(1)).view(-1, real.size(1))
        interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        grads = torch.autograd.grad(self(interp).sum(), interp, create_graph=True, retain_graph=True)[0]
        grads = grads.view(-1, self.pac * real.size(1))
        return ((grads.norm(2, dim=1) - 1) ** 2).mean() * lambda_


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    table = torch.randn(32, 6)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(table), batch_size=8, shuffle=True, drop_last=True))
    gen, critic = Generator(), Critic()
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.9))
    gen_f, opt_g = fabric.setup(gen, opt_g)
    critic_f, opt_d = fabric.setup(critic, opt_d)
    g0 = gen.net[0].weight.detach().clone()
    for epoch in range(2):
        for (real,) in loader:
            fake = gen_f(torch.randn(real.size(0), 8))
            y_fake, y_real = critic_f(fake.detach()), critic_f(real)
            pen = critic.gradient_penalty(real, fake.detach())
            loss_d = -(y_real.mean() - y_fake.mean())
            opt_d.zero_grad()
            fabric.backward(pen, retain_graph=True)
            fabric.backward(loss_d)
            opt_d.step()
            opt_g.zero_grad()
            loss_g = -critic_f(gen_f(torch.randn(real.size(0), 8))).mean()
            fabric.backward(loss_g)
            opt_g.step()
    return ({"generator": gen, "critic": critic},
            {"generator_changed": not torch.equal(g0, gen.net[0].weight)})

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
