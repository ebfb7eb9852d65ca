import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Critic(nn.Module):
    def __init__(self, dim=8, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2))
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.net(x))


class Generator(nn.Module):
    def __init__(self, z_dim=4, dim=8, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, z):
        return self.net(z)


def clip_critic_weights(critic, clip_value=0.01):
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-clip_value, clip_value)


def train_wgan(generator, critic, loader, g_opt, c_opt, n_critic=2, z_dim=4):
    gen_c, critic_c = torch.compile(generator, backend="eager"), torch.compile(critic, backend="eager")
    for i, (real,) in enumerate(loader):
        z = torch.randn(real.size(0), z_dim)
        c_loss = critic_c(gen_c(z).detach()).mean() - critic_c(real).mean()
        c_opt.zero_grad()
        c_loss.backward()
        c_opt.step()
        clip_critic_weights(critic)
        if (i + 1) % n_critic == 0:
            g_loss = -critic_c(gen_c(torch.randn(real.size(0), z_dim))).mean()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(18)
    loader = DataLoader(TensorDataset(torch.randn(64, 8, generator=g) + 2.0), batch_size=16, shuffle=True, generator=g)
    generator, critic = Generator(), Critic()
    g_opt = torch.optim.RMSprop(generator.parameters(), lr=5e-4)
    c_opt = torch.optim.RMSprop(critic.parameters(), lr=5e-4)
    gen0 = generator.net[2].weight.detach().clone()
    clip_critic_weights(critic)
    train_wgan(generator, critic, loader, g_opt, c_opt)
    return ({"generator": generator, "critic": critic},
            {"generator_changed": not torch.equal(gen0, generator.net[2].weight),
             "critic_within_clip": all(bool(p.abs().max() <= 0.01) for p in critic.parameters())})

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
