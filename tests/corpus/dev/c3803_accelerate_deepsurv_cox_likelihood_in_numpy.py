import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class DeepSurv(nn.Module):
    def __init__(self, n_features=6, hidden=16, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.SELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, hidden), nn.SELU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def neg_partial_log_likelihood(risk, time, event):
    """Breslow partial likelihood as in the DeepSurv reference: sort by descending time, log of the cumulative hazard."""
    order = np.argsort(-time.cpu().numpy())
    r = risk.detach().cpu().numpy()[order]
    e = event.cpu().numpy()[order]
    log_risk = np.log(np.cumsum(np.exp(r)))
    censored_likelihood = (r - log_risk) * e
    return torch.tensor(-censored_likelihood.sum() / max(e.sum(), 1.0), dtype=torch.float32)


def make_cohort(n=64, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    true_risk = 0.8 * x[:, 0] - 0.5 * x[:, 1]
    time = torch.distributions.Exponential(torch.exp(true_risk)).sample()
    event = (torch.rand(n, generator=g) < 0.7).float()
    return TensorDataset(x, time, event)


def l2_penalty(model, l2_reg=1e-2):
    return l2_reg * sum((w ** 2).sum() for name, w in model.named_parameters() if name.endswith("weight"))


def train(accelerator, model, loader, optimizer, scheduler, epochs=2):
    model.train()
    history = []
    for _ in range(epochs):
        for x, time, event in loader:
            risk = model(x)
            nll = neg_partial_log_likelihood(risk, time, event)
            loss = nll + l2_penalty(model)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            history.append(nll.requires_grad)
        scheduler.step()
    return history


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = DeepSurv()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    loader = DataLoader(make_cohort(), batch_size=32, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    w0 = model.net[0].weight.detach().clone()
    history = train(accelerator, model, loader, optimizer, scheduler)
    return {"model": model}, {
        "likelihood_in_graph": all(history),
        "first_layer_changed": not torch.equal(w0, model.net[0].weight),
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
