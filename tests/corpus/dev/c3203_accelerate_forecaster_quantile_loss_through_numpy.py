import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

QUANTILES = (0.1, 0.5, 0.9)


class QuantileForecaster(nn.Module):
    def __init__(self, n_feat=3, hidden=16, horizon=4):
        super().__init__()
        self.encoder = nn.GRU(n_feat, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, horizon * len(QUANTILES))
        self.horizon = horizon

    def forward(self, x):
        _, h = self.encoder(x)
        return self.decoder(h[-1]).view(-1, self.horizon, len(QUANTILES))


def pinball_loss(pred, target, mask):
    p = pred.detach().cpu().numpy()
    t = target.cpu().numpy()[..., None]
    q = np.asarray(QUANTILES)[None, None, :]
    diff = t - p
    per_step = np.maximum(q * diff, (q - 1) * diff).mean(-1)
    per_step = per_step * mask.cpu().numpy()
    return torch.tensor(per_step.sum() / max(mask.sum().item(), 1.0), dtype=torch.float32)


def make_windows(n=48, lookback=8, horizon=4):
    g = torch.Generator().manual_seed(1)
    series = torch.cumsum(torch.randn(n + lookback + horizon, 3, generator=g), 0)
    xs = torch.stack([series[i:i + lookback] for i in range(n)])
    ys = torch.stack([series[i + lookback:i + lookback + horizon, 0] for i in range(n)])
    mask = (torch.rand(n, horizon, generator=g) > 0.1).float()
    return DataLoader(TensorDataset(xs, ys, mask), batch_size=12, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, accelerator, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, y, m in loader:
            pred = model(x)
            loss = pinball_loss(pred, y, m)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = QuantileForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_windows(), scheduler)
    train(model, loader, optimizer, scheduler, accelerator)
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
