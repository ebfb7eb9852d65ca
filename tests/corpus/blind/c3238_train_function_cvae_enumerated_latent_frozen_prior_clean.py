import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DiscreteCVAE(nn.Module):
    def __init__(self, d=2, hidden=16, K=4, horizon=3):
        super().__init__()
        self.history = nn.GRU(d, hidden, batch_first=True)
        self.posterior = nn.Linear(hidden + horizon * d, K)
        self.prior = nn.Linear(hidden, K)
        self.decoder = nn.Sequential(nn.Linear(hidden + K, hidden), nn.ReLU(), nn.Linear(hidden, horizon * d))
        self.K, self.horizon, self.d = K, horizon, d

    def forward(self, past, future):
        _, h = self.history(past)
        h = h[-1]
        q = self.posterior(torch.cat([h, future.flatten(1)], -1)).log_softmax(-1)
        p = self.prior(h).log_softmax(-1)
        codes = torch.eye(self.K)
        preds = torch.stack([self.decoder(torch.cat([h, codes[k].expand(h.size(0), -1)], -1)) for k in range(self.K)], 1)
        return preds.view(h.size(0), self.K, self.horizon, self.d), q, p


def elbo_loss(preds, future, q, p, beta=0.5):
    nll = ((preds - future.unsqueeze(1)) ** 2).sum((-1, -2))
    rec = (q.exp() * nll).sum(-1).mean()
    kl = (q.exp() * (q - p)).sum(-1).mean()
    return rec + beta * kl


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for past, future in loader:
            optimizer.zero_grad()
            preds, q, p = model(past, future)
            loss = elbo_loss(preds, future, q, p)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = DiscreteCVAE()
    model.prior.requires_grad_(False)
    q0, p0 = model.posterior.weight.detach().clone(), model.prior.weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    tracks = torch.cumsum(torch.randn(16, 8, 2, generator=g) * 0.1, 1)
    loader = DataLoader(TensorDataset(tracks[:, :5], tracks[:, 5:]), batch_size=4, shuffle=True, generator=g)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    train(model, loader, optimizer)
    facts = {"posterior_changed": not torch.equal(q0, model.posterior.weight),
             "prior_changed": not torch.equal(p0, model.prior.weight)}
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
