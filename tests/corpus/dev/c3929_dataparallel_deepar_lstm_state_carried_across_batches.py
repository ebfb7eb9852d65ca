import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DeepAR(nn.Module):
    def __init__(self, n_cov=2, hidden=16):
        super().__init__()
        self.lstm = nn.LSTM(1 + n_cov, hidden, batch_first=True)
        self.mu = nn.Linear(hidden, 1)
        self.sigma = nn.Linear(hidden, 1)

    def forward(self, lagged, covariates, state=None):
        out, state = self.lstm(torch.cat([lagged, covariates], -1), state)
        return self.mu(out).squeeze(-1), F.softplus(self.sigma(out)).squeeze(-1) + 1e-3, state


def consecutive_windows(series, covariates, window=8, batch=4):
    xs, cs, ys = [], [], []
    for start in range(0, series.shape[1] - window - 1, window):
        xs.append(series[:, start:start + window, None])
        cs.append(covariates[:, start:start + window])
        ys.append(series[:, start + 1:start + window + 1])
    return DataLoader(TensorDataset(torch.cat(xs), torch.cat(cs), torch.cat(ys)), batch_size=batch, shuffle=False)


def train_stateful(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        state = None
        for lagged, cov, target in loader:
            mu, sigma, state = model(lagged, cov, state)
            loss = -torch.distributions.Normal(mu, sigma).log_prob(target).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    t = torch.arange(73).float()
    series = torch.sin(t / 6)[None].repeat(4, 1) + 0.1 * torch.randn(4, 73)
    covariates = torch.stack([torch.sin(t / 12), torch.cos(t / 12)], -1)[None].repeat(4, 1, 1)
    loader = consecutive_windows(series, covariates)
    model = nn.DataParallel(DeepAR())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_stateful(model, loader, optimizer)
    return {"model": model.module}

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
