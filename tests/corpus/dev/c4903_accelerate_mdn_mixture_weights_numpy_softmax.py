import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_components": 3, "hidden": 32, "lr": 3e-3, "epochs": 2, "batch_size": 32}


def mixture_weights(pi_logits):
    """Softmax over components, computed stably on the host (shared with the sampling script)."""
    logits = pi_logits.detach().cpu().numpy()
    logits = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=-1, keepdims=True)
    return torch.from_numpy(p).to(pi_logits.device, pi_logits.dtype)


class MixtureDensityNet(nn.Module):
    def __init__(self, n_components, hidden):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.pi_head = nn.Linear(hidden, n_components)
        self.mu_head = nn.Linear(hidden, n_components)
        self.log_sigma_head = nn.Linear(hidden, n_components)

    def forward(self, x):
        h = self.trunk(x)
        pi = mixture_weights(self.pi_head(h))
        return pi, self.mu_head(h), self.log_sigma_head(h).clamp(-5.0, 3.0)


def mdn_nll(pi, mu, log_sigma, y):
    comp = torch.distributions.Normal(mu, log_sigma.exp()).log_prob(y)
    return -torch.logsumexp(torch.log(pi + 1e-8) + comp, dim=-1).mean()


def inverse_sine_data(n=192):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, generator=g)
    y = x + 0.3 * torch.sin(2 * torch.pi * x) + 0.05 * torch.randn(n, 1, generator=g)
    return TensorDataset(y, x)  # inverse problem: predict x from y (multi-modal)


def train(accelerator, model, loader, optimizer, scheduler, epochs):
    history = []
    for _ in range(epochs):
        for y, x in loader:
            pi, mu, log_sigma = model(y)
            loss = mdn_nll(pi, mu, log_sigma, x)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            history.append(loss.item())
    return history


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MixtureDensityNet(CFG["n_components"], CFG["hidden"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
    loader = DataLoader(inverse_sine_data(), batch_size=CFG["batch_size"], shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    pi0 = model.pi_head.weight.detach().clone()
    mu0 = model.mu_head.weight.detach().clone()
    train(accelerator, model, loader, optimizer, scheduler, CFG["epochs"])
    return {"model": model}, {
        "pi_head_changed": not torch.equal(pi0, model.pi_head.weight),
        "mu_head_changed": not torch.equal(mu0, model.mu_head.weight),
    }

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
