import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

LOG_2PI = math.log(2 * math.pi)


def log_normal_diag(x, mu, log_var):
    return -0.5 * (LOG_2PI + log_var + torch.exp(-log_var) * (x - mu) ** 2)


def log_standard_normal(x):
    return -0.5 * (LOG_2PI + x ** 2)


def make_denoiser(D, M):
    return nn.Sequential(nn.Linear(D, M), nn.LeakyReLU(), nn.Linear(M, M), nn.LeakyReLU(), nn.Linear(M, 2 * D))


class DDGM(nn.Module):
    """Diffusion-based deep generative model: fixed forward diffusion, learned reverse denoisers."""

    def __init__(self, p_dnns, decoder_net, beta=0.1, T=4):
        super().__init__()
        self.p_dnns = p_dnns
        self.decoder_net = decoder_net
        self.beta, self.T = beta, T

    def diffuse(self, x):
        return math.sqrt(1.0 - self.beta) * x + math.sqrt(self.beta) * torch.randn_like(x)

    def forward(self, x):
        zs = [self.diffuse(x)]
        for _ in range(1, self.T):
            zs.append(self.diffuse(zs[-1]))
        kl = log_standard_normal(zs[-1]).sum(1)
        for i in range(len(self.p_dnns) - 1, -1, -1):
            mu_i, log_var_i = torch.chunk(self.p_dnns[i](zs[i + 1]), 2, dim=1)
            kl = kl + log_normal_diag(zs[i], mu_i, log_var_i).sum(1)
        recon = -F.mse_loss(self.decoder_net(zs[0]), x, reduction="none").sum(1)
        return -(recon + kl).mean()


def build_ddgm(D=16, M=32, T=4):
    p_dnns = [make_denoiser(D, M) for _ in range(T - 1)]
    decoder_net = nn.Sequential(nn.Linear(D, M), nn.LeakyReLU(), nn.Linear(M, D), nn.Tanh())
    return DDGM(p_dnns, decoder_net, T=T)


def train(model, loader, optimizer, accelerator, epochs=2):
    model.train()
    for _ in range(epochs):
        for (x,) in loader:
            loss = model(x)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    data = torch.tanh(torch.randn(32, 16))
    loader = DataLoader(TensorDataset(data), batch_size=8, shuffle=True)
    model = build_ddgm()
    optimizer = torch.optim.Adamax(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    den0 = model.p_dnns[0][0].weight.detach().clone()
    dec0 = model.decoder_net[0].weight.detach().clone()
    train(model, loader, optimizer, accelerator)
    return ({"model": model, "p_dnn_0_in": model.p_dnns[0][0].weight},
            {"denoiser_changed": not torch.equal(den0, model.p_dnns[0][0].weight),
             "decoder_changed": not torch.equal(dec0, model.decoder_net[0].weight),
             "n_optimized_tensors": sum(len(g["params"]) for g in optimizer.param_groups)})

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
