import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence
from torch.utils.data import DataLoader, TensorDataset


class VAE(nn.Module):
    def __init__(self, x_dim=16, h_dim=24, z_dim=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(x_dim, h_dim), nn.ReLU())
        self.to_mu, self.to_logvar = nn.Linear(h_dim, z_dim), nn.Linear(h_dim, z_dim)
        self.decoder = nn.Sequential(nn.Linear(z_dim, h_dim), nn.ReLU(), nn.Linear(h_dim, x_dim))
        self.z_dim = z_dim

    def posterior(self, x):
        h = self.encoder(x)
        return Normal(self.to_mu(h), torch.exp(0.5 * self.to_logvar(h)))

    def forward(self, x):
        q = self.posterior(x)
        z = q.rsample()
        return self.decoder(z), q

    @torch.no_grad()
    def generate(self, n):
        prior = Normal(torch.zeros(n, self.z_dim), torch.ones(n, self.z_dim))
        return self.decoder(prior.sample())


def elbo_loss(recon, x, q, beta=1.0):
    prior = Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))
    rec = F.mse_loss(recon, x, reduction="sum") / x.size(0)
    kl = kl_divergence(q, prior).sum(dim=1).mean()
    return rec + beta * kl


def recon_only_grad_reaches_encoder(model, x):
    recon, q = model(x)
    (g,) = torch.autograd.grad(F.mse_loss(recon, x), model.to_mu.weight)
    return bool(g.abs().sum() > 0)


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 16)), batch_size=16, shuffle=True)
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(2):
        for (x,) in loader:
            recon, q = model(x)
            loss = elbo_loss(recon, x, q)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    samples = model.generate(4)
    facts = {"recon_grad_reaches_encoder": recon_only_grad_reaches_encoder(model, x),
             "samples_detached": not samples.requires_grad}
    return {"model": model}, facts

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
