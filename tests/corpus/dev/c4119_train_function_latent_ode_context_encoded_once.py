import torch
import torch.nn as nn
import torch.nn.functional as F


class ODEFunc(nn.Module):
    def __init__(self, latent=4, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, latent))

    def forward(self, t, z):
        return self.net(z)


def odeint_euler(func, z0, t_grid):
    zs = [z0]
    z = z0
    for i in range(len(t_grid) - 1):
        dt = t_grid[i + 1] - t_grid[i]
        z = z + dt * func(t_grid[i], z)
        zs.append(z)
    return torch.stack(zs, dim=1)  # (B, T, latent)


class RecognitionGRU(nn.Module):
    """Runs backwards over the observed context and returns q(z0 | context)."""

    def __init__(self, obs_dim=2, latent=4, hidden=16):
        super().__init__()
        self.gru = nn.GRU(obs_dim, hidden, batch_first=True)
        self.to_z = nn.Linear(hidden, 2 * latent)

    def forward(self, context):
        _, h = self.gru(context.flip(1))
        mean, logvar = self.to_z(h[-1]).chunk(2, dim=-1)
        return mean, logvar


class LatentODE(nn.Module):
    def __init__(self, obs_dim=2, latent=4):
        super().__init__()
        self.encoder = RecognitionGRU(obs_dim, latent)
        self.func = ODEFunc(latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 16), nn.ReLU(), nn.Linear(16, obs_dim))

    def decode(self, z0, t_grid):
        return self.decoder(odeint_euler(self.func, z0, t_grid))


def elbo_loss(model, z_mean, z_logvar, target, t_grid, kl_weight):
    z0 = z_mean + torch.randn_like(z_mean) * torch.exp(0.5 * z_logvar)
    recon = F.mse_loss(model.decode(z0, t_grid), target)
    kl = -0.5 * torch.mean(1 + z_logvar - z_mean ** 2 - z_logvar.exp())
    return recon + kl_weight * kl


def train(model, context, target, t_grid, cfg):
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    z_mean, z_logvar = model.encoder(context)
    history = []
    for it in range(cfg["iters"]):
        kl_weight = min(1.0, (it + 1) / cfg["kl_warmup"])
        loss = elbo_loss(model, z_mean, z_logvar, target, t_grid, kl_weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def spiral_data(n=16, t_obs=8, t_pred=10):
    g = torch.Generator().manual_seed(0)
    phase = torch.rand(n, 1, generator=g) * 6.28
    t_all = torch.linspace(0, 2.0, t_obs + t_pred)
    r = 1.0 + 0.3 * t_all
    xy = torch.stack([r * torch.cos(t_all + phase), r * torch.sin(t_all + phase)], -1)
    return xy[:, :t_obs], xy[:, t_obs:], t_all[t_obs:] - t_all[t_obs]


def main():
    torch.manual_seed(0)
    context, target, t_grid = spiral_data()
    model = LatentODE()
    history = train(model, context, target, t_grid, {"lr": 1e-2, "iters": 5, "kl_warmup": 3})
    return {"model": model}, {"iterations_done": len(history)}

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
