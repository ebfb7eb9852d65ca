import torch
import torch.nn as nn


class Critic(nn.Module):
    def __init__(self, dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


class Generator(nn.Module):
    def __init__(self, z_dim=4, dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, z):
        return self.net(z)


def clip_weights(module, c):
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-c, c)


def critic_step(critic, gen, opt_c, real, z_dim, clip):
    fake = gen(torch.randn(real.size(0), z_dim)).detach()
    loss_c = critic(fake).mean() - critic(real).mean()
    opt_c.zero_grad()
    loss_c.backward()
    opt_c.step()
    clip_weights(critic, clip)
    return loss_c.item()


def generator_step(critic, gen, opt_g, batch_size, z_dim):
    loss_g = -critic(gen(torch.randn(batch_size, z_dim))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_g.item()


def main():
    torch.manual_seed(0)
    z_dim, clip, n_critic = 4, 0.05, 3
    critic, gen = Critic(), Generator(z_dim)
    opt_c = torch.optim.RMSprop(critic.parameters(), lr=5e-4)
    opt_g = torch.optim.RMSprop(gen.parameters(), lr=5e-4)
    data = torch.randn(256, 2) * 0.3 + torch.tensor([1.0, -1.0])
    g_before = gen.net[0].weight.detach().clone()
    for it in range(4):
        for _ in range(n_critic):
            critic_step(critic, gen, opt_c, data[torch.randint(0, 256, (32,))], z_dim, clip)
        generator_step(critic, gen, opt_g, 32, z_dim)
    facts = {
        "critic_weights_within_clip": max(p.detach().abs().max().item() for p in critic.parameters()) <= clip + 1e-6,
        "generator_changed": not torch.equal(g_before, gen.net[0].weight.detach()),
    }
    return {"critic": critic, "generator": gen}, facts

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
