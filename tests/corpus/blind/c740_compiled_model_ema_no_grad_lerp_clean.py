import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Denoiser(nn.Module):
    def __init__(self, dim=16, hidden=48):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, dim))

    def forward(self, x, t):
        return self.net(torch.cat([x, t[:, None]], dim=-1))


class EMA:
    def __init__(self, model, decay=0.99):
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model):
        for s, p in zip(self.shadow.parameters(), model.parameters()):
            s.lerp_(p, 1.0 - self.decay)


def noise_batch(x0, generator=None):
    t = torch.rand(x0.size(0), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    xt = torch.sqrt(1 - t)[:, None] * x0 + torch.sqrt(t)[:, None] * noise
    return xt, t, noise


def train(compiled, model, ema, loader, optimizer, epochs=2):
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        for (x0,) in loader:
            xt, t, noise = noise_batch(x0, g)
            loss = F.mse_loss(compiled(xt, t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ema.update(model)


def main():
    torch.manual_seed(0)
    model = Denoiser()
    compiled = torch.compile(model, backend="eager")
    ema = EMA(model)
    ema_before = ema.shadow.net[0].weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    data = torch.randn(96, 16) * 0.5
    train(compiled, model, ema, DataLoader(TensorDataset(data), batch_size=32, shuffle=True), optimizer)
    return {"model": model}, {
        "ema_changed": not torch.equal(ema_before, ema.shadow.net[0].weight),
        "ema_lags_model": not torch.equal(ema.shadow.net[0].weight, model.net[0].weight),
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
