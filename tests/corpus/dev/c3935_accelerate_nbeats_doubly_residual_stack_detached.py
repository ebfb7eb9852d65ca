import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class NBeatsBlock(nn.Module):
    def __init__(self, backcast_len, forecast_len, hidden=32, theta=8):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(backcast_len, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.theta_b = nn.Linear(hidden, theta, bias=False)
        self.theta_f = nn.Linear(hidden, theta, bias=False)
        self.backcast_basis = nn.Linear(theta, backcast_len)
        self.forecast_basis = nn.Linear(theta, forecast_len)

    def forward(self, x):
        h = self.fc(x)
        return self.backcast_basis(self.theta_b(h)), self.forecast_basis(self.theta_f(h))


class NBeats(nn.Module):
    def __init__(self, backcast_len=12, forecast_len=4, n_blocks=3):
        super().__init__()
        self.blocks = nn.ModuleList(NBeatsBlock(backcast_len, forecast_len) for _ in range(n_blocks))

    def forward(self, x):
        residual, forecast = x, 0.0
        for block in self.blocks:
            backcast, block_forecast = block(residual)
            residual = (residual - backcast).detach()
            forecast = forecast + block_forecast
        return forecast


def windows(series, backcast_len=12, forecast_len=4):
    xs, ys = [], []
    for s in range(series.shape[0] - backcast_len - forecast_len):
        xs.append(series[s:s + backcast_len])
        ys.append(series[s + backcast_len:s + backcast_len + forecast_len])
    return TensorDataset(torch.stack(xs), torch.stack(ys))


def main():
    set_seed(0)
    accelerator = Accelerator()
    t = torch.arange(120).float()
    series = torch.sin(t / 5) + 0.02 * t + 0.05 * torch.randn(120)
    model = NBeats()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    loader = DataLoader(windows(series), batch_size=16, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    tb0 = model.blocks[0].theta_b.weight.detach().clone()
    tf0 = model.blocks[0].theta_f.weight.detach().clone()
    for epoch in range(2):
        for x, y in loader:
            loss = F.l1_loss(model(x), y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
        scheduler.step()
    return {"model": model}, {
        "first_backcast_head_changed": not torch.equal(tb0, model.blocks[0].theta_b.weight),
        "first_forecast_head_changed": not torch.equal(tf0, model.blocks[0].theta_f.weight),
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
