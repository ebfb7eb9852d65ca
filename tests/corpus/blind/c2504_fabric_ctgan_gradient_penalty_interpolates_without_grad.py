import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TabularGenerator(nn.Module):
    def __init__(self, z_dim=8, n_cont=5, n_cat=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(z_dim, 32), nn.BatchNorm1d(32), nn.ReLU())
        self.cont_head = nn.Linear(32, n_cont)
        self.cat_head = nn.Linear(32, n_cat)

    def forward(self, z):
        h = self.body(z)
        return torch.cat([torch.tanh(self.cont_head(h)), torch.softmax(self.cat_head(h), dim=-1)], dim=-1)


class PacCritic(nn.Module):
    def __init__(self, width=9, pac=2):
        super().__init__()
        self.pac = pac
        self.net = nn.Sequential(nn.Linear(width * pac, 32), nn.LeakyReLU(0.2), nn.Dropout(0.1), nn.Linear(32, 1))

    def forward(self, rows):
        return self.net(rows.reshape(-1, rows.size(1) * self.pac))


class PenaltySampler:
    def __init__(self, pac=2):
        self.pac = pac

    def mix(self, real, fake):
        alpha = torch.rand(real.size(0) // self.pac, 1, 1).repeat(1, self.pac, real.size(1)).reshape(-1, real.size(1))
        return torch.lerp(fake.detach(), real, alpha)

    def penalty(self, critic, real, fake, lam=10.0):
        rows = self.mix(real, fake)
        scores = critic(rows)
        grads = torch.autograd.grad(scores.sum(), rows, create_graph=True)[0]
        per_pack = grads.reshape(-1, self.pac * rows.size(1)).norm(dim=1)
        return lam * ((per_pack - 1) ** 2).mean()


def fit(fabric, gen, critic, g_opt, d_opt, loader, sampler, n_critic=2):
    for real, in loader:
        for _ in range(n_critic):
            fake = gen(torch.randn(real.size(0), 8))
            d_loss = critic(fake.detach()).mean() - critic(real).mean() + sampler.penalty(critic, real, fake)
            d_opt.zero_grad()
            fabric.backward(d_loss)
            d_opt.step()
        g_loss = -critic(gen(torch.randn(real.size(0), 8))).mean()
        g_opt.zero_grad()
        fabric.backward(g_loss)
        g_opt.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    gen, critic = TabularGenerator(), PacCritic()
    g_opt = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.9))
    d_opt = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.9))
    gen, g_opt = fabric.setup(gen, g_opt)
    critic, d_opt = fabric.setup(critic, d_opt)
    g = torch.Generator().manual_seed(0)
    cont = torch.tanh(torch.randn(32, 5, generator=g))
    cat = nn.functional.one_hot(torch.randint(0, 4, (32,), generator=g), 4).float()
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.cat([cont, cat], 1)), batch_size=8, shuffle=True))
    fit(fabric, gen, critic, g_opt, d_opt, loader, PenaltySampler())
    return {"critic": critic.module}

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
