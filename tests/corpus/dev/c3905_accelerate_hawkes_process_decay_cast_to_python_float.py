import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ExpKernelHawkes(nn.Module):
    """Multivariate Hawkes process with an exponential kernel, fitted by maximum likelihood."""

    def __init__(self, n_types=2):
        super().__init__()
        self.log_mu = nn.Parameter(torch.full((n_types,), -1.0))
        self.log_alpha = nn.Parameter(torch.full((n_types, n_types), -1.5))
        self.log_beta = nn.Parameter(torch.zeros(()))

    def neg_log_likelihood(self, times, types, mask, horizon):
        mu, alpha = self.log_mu.exp(), self.log_alpha.exp()
        beta = float(self.log_beta.exp())
        dt = times[:, :, None] - times[:, None, :]
        past = (dt > 0) & mask[:, :, None] & mask[:, None, :]
        kern = torch.exp(-beta * dt.clamp(min=0)) * past
        excite = alpha[types[:, :, None], types[:, None, :]] * beta * kern
        lam = mu[types] + excite.sum(-1)
        log_term = (torch.log(lam) * mask).sum(1)
        tail = (1 - torch.exp(-beta * (horizon[:, None] - times).clamp(min=0))) * mask
        compensator = mu.sum() * horizon + (alpha.sum(0)[types] * tail).sum(1)
        return (compensator - log_term).mean()


def make_sequences(n=32, length=10, n_types=2):
    g = torch.Generator().manual_seed(0)
    gaps = torch.distributions.Exponential(torch.tensor(2.0)).sample((n, length))
    times = gaps.cumsum(1)
    types = torch.randint(0, n_types, (n, length), generator=g)
    mask = torch.ones(n, length, dtype=torch.bool)
    mask[: n // 2, -3:] = False
    horizon = times.max(1).values + 0.5
    return TensorDataset(times, types, mask, horizon)


def train(model, loader, optimizer, accelerator, epochs=3):
    for _ in range(epochs):
        for times, types, mask, horizon in loader:
            loss = model.neg_log_likelihood(times, types, mask, horizon)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ExpKernelHawkes()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(make_sequences(), batch_size=8, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    mu0, a0, b0 = model.log_mu.detach().clone(), model.log_alpha.detach().clone(), model.log_beta.detach().clone()
    train(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "decay_changed": not torch.equal(b0, model.log_beta),
        "baseline_changed": not torch.equal(mu0, model.log_mu),
        "excitation_changed": not torch.equal(a0, model.log_alpha),
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
