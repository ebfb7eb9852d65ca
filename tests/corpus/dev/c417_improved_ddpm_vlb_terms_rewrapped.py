import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Denoiser(nn.Module):
    """Predicts the noise and an interpolation between the two variance bounds (improved DDPM)."""

    def __init__(self, dim=2, hidden=64):
        super().__init__()
        self.hidden = hidden
        self.time_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU())
        self.body = nn.Sequential(nn.Linear(dim + hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.eps_head = nn.Linear(hidden, dim)
        self.var_head = nn.Linear(hidden, dim)

    def forward(self, x, t):
        h = self.body(torch.cat([x, self.time_mlp(timestep_embedding(t, self.hidden))], dim=-1))
        return self.eps_head(h), torch.sigmoid(self.var_head(h))


class Diffusion:
    def __init__(self, T=50):
        self.T = T
        self.betas = torch.linspace(1e-4, 0.05, T)
        self.alphas_cumprod = torch.cumprod(1 - self.betas, 0)
        prev = torch.cat([torch.ones(1), self.alphas_cumprod[:-1]])
        self.post_var = self.betas * (1 - prev) / (1 - self.alphas_cumprod)
        self.post_logvar = torch.log(torch.cat([self.post_var[1:2], self.post_var[1:]]))
        self.coef_x0 = self.betas * prev.sqrt() / (1 - self.alphas_cumprod)
        self.coef_xt = (1 - prev) * (1 - self.betas).sqrt() / (1 - self.alphas_cumprod)

    def q_sample(self, x0, t, noise):
        a = self.alphas_cumprod[t].unsqueeze(-1)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def vlb_terms(self, x0, xt, t, eps_pred, v):
        true_mean = self.coef_x0[t, None] * x0 + self.coef_xt[t, None] * xt
        a = self.alphas_cumprod[t, None]
        x0_pred = (xt - (1 - a).sqrt() * eps_pred.detach()) / a.sqrt()
        model_mean = self.coef_x0[t, None] * x0_pred + self.coef_xt[t, None] * xt
        model_logvar = v * torch.log(self.betas[t, None]) + (1 - v) * self.post_logvar[t, None]
        true_logvar = self.post_logvar[t, None]
        terms = []
        for i in range(x0.size(0)):
            kl = 0.5 * (-1.0 + model_logvar[i] - true_logvar[i] + torch.exp(true_logvar[i] - model_logvar[i])
                        + (true_mean[i] - model_mean[i]) ** 2 * torch.exp(-model_logvar[i]))
            terms.append(kl.mean())
        return terms


def train(model, diffusion, loader, optimizer, lambda_vlb=0.001, epochs=2):
    per_step_log = {}
    for _ in range(epochs):
        for (x0,) in loader:
            t = torch.randint(1, diffusion.T, (x0.size(0),))
            noise = torch.randn_like(x0)
            xt = diffusion.q_sample(x0, t, noise)
            eps_pred, v = model(xt, t)
            loss_simple = F.mse_loss(eps_pred, noise)
            terms = diffusion.vlb_terms(x0, xt, t, eps_pred, v)
            for ti, term in zip(t.tolist(), terms):
                per_step_log.setdefault(ti, []).append(term.item())
            loss_vlb = torch.tensor(terms).mean()
            loss = loss_simple + lambda_vlb * loss_vlb
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return per_step_log


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    angles = torch.rand(128, generator=g) * 2 * math.pi
    data = torch.stack([angles.cos(), angles.sin()], dim=1) + 0.05 * torch.randn(128, 2, generator=g)
    loader = DataLoader(TensorDataset(data), batch_size=32, shuffle=True, generator=g)
    model = Denoiser()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train(model, Diffusion(), loader, optimizer)
    return {"model": model}

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
