import torch
import torch.nn as nn


class SignalGenerator(nn.Module):
    def __init__(self, z_dim=8, length=16, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, length))

    def forward(self, z):
        return self.net(z)


class SignalCritic(nn.Module):
    def __init__(self, length=16, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(length, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def gradient_penalty(critic, real, fake):
    eps = torch.rand(real.shape[0], 1)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grads, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grads.norm(dim=1) - 1) ** 2).mean()


def train_step(gen_c, critic_c, critic, opt_g, opt_c, real, z_dim=8, gp_weight=10.0):
    fake = gen_c(torch.randn(real.shape[0], z_dim))
    fake_scores = critic_c(fake)
    loss_c = fake_scores.mean() - critic_c(real).mean() + gp_weight * gradient_penalty(critic, real, fake.detach())
    opt_c.zero_grad()
    loss_c.backward(retain_graph=True)
    opt_c.step()

    loss_g = -fake_scores.mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_c.item(), loss_g.item()


def main():
    torch.manual_seed(0)
    gen, critic = SignalGenerator(), SignalCritic()
    gen_c, critic_c = torch.compile(gen, backend="eager"), torch.compile(critic, backend="eager")
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    t = torch.linspace(0, 6.28, 16)
    g = torch.Generator().manual_seed(0)
    real = torch.sin(t[None] + 6.28 * torch.rand(32, 1, generator=g))
    gen_before = gen.net[0].weight.detach().clone()
    for batch in real.split(8):
        train_step(gen_c, critic_c, critic, opt_g, opt_c, batch)
    return {"generator": gen, "critic": critic}, {"generator_changed": not torch.equal(gen_before, gen.net[0].weight)}

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
