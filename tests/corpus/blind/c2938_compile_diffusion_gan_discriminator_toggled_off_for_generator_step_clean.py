import torch
import torch.nn as nn
import torch.nn.functional as F


class TimeCondGenerator(nn.Module):
    """Denoising-diffusion-GAN style generator: predicts x_0 from x_t, t and a latent z."""

    def __init__(self, dim=12, z_dim=4, n_steps=4, hidden=24):
        super().__init__()
        self.t_embed = nn.Embedding(n_steps, hidden)
        self.net = nn.Sequential(nn.Linear(dim + z_dim, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x_t, t, z):
        h = self.net[0](torch.cat([x_t, z], -1)) + self.t_embed(t)
        return self.net[2](self.net[1](h))


class TimeCondDiscriminator(nn.Module):
    def __init__(self, dim=12, n_steps=4, hidden=24):
        super().__init__()
        self.t_embed = nn.Embedding(n_steps, hidden)
        self.net = nn.Sequential(nn.Linear(2 * dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x_prev, x_t, t):
        h = self.net[0](torch.cat([x_prev, x_t], -1)) + self.t_embed(t)
        return self.net[2](self.net[1](h)).squeeze(-1)


def q_sample(x0, t, alphas_bar):
    a = alphas_bar[t][:, None]
    return a.sqrt() * x0 + (1 - a).sqrt() * torch.randn_like(x0)


def main():
    torch.manual_seed(0)
    gen, disc = TimeCondGenerator(), TimeCondDiscriminator()
    gen_c, disc_c = torch.compile(gen, backend="eager"), torch.compile(disc, backend="eager")
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.9))
    alphas_bar = torch.cumprod(1 - torch.linspace(0.1, 0.5, 4), 0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(24, 12, generator=g) * 0.5 + 1.0
    gen_before, disc_before = gen.net[0].weight.detach().clone(), disc.net[0].weight.detach().clone()
    for x0 in data.split(8):
        t = torch.randint(1, 4, (x0.shape[0],))
        x_prev, x_t = q_sample(x0, t - 1, alphas_bar), q_sample(x0, t, alphas_bar)

        for p in disc.parameters():
            p.requires_grad = True
        opt_d.zero_grad()
        fake_prev = q_sample(gen_c(x_t, t, torch.randn(x0.shape[0], 4)).detach(), t - 1, alphas_bar)
        loss_d = F.softplus(-disc_c(x_prev, x_t, t)).mean() + F.softplus(disc_c(fake_prev, x_t, t)).mean()
        loss_d.backward()
        opt_d.step()

        for p in disc.parameters():
            p.requires_grad = False
        opt_g.zero_grad()
        fake_prev = q_sample(gen_c(x_t, t, torch.randn(x0.shape[0], 4)), t - 1, alphas_bar)
        loss_g = F.softplus(-disc_c(fake_prev, x_t, t)).mean()
        loss_g.backward()
        opt_g.step()
    facts = {"generator_changed": not torch.equal(gen_before, gen.net[0].weight),
             "discriminator_changed": not torch.equal(disc_before, disc.net[0].weight)}
    return {"generator": gen, "discriminator": disc}, facts

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
