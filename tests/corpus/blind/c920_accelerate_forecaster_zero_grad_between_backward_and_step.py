import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TCNForecaster(nn.Module):
    def __init__(self, n_series=3, channels=16, horizon=4):
        super().__init__()
        self.tcn = nn.Sequential(
            nn.Conv1d(n_series, channels, 3, padding=2, dilation=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, padding=4, dilation=2), nn.ReLU(),
        )
        self.head = nn.Linear(channels, n_series * horizon)
        self.n_series, self.horizon = n_series, horizon

    def forward(self, window):
        h = self.tcn(window)[..., -1]
        return self.head(h).view(-1, self.n_series, self.horizon)


def make_loader(n=64, n_series=3, length=24, horizon=4):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(length + horizon).float()
    phase = torch.rand(n, n_series, 1, generator=g) * 6.28
    series = torch.sin(t / 3 + phase) + 0.1 * torch.randn(n, n_series, length + horizon, generator=g)
    return DataLoader(TensorDataset(series[..., :length], series[..., length:]), batch_size=16, shuffle=True,
                      generator=g)


def train(accelerator, model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for window, target in loader:
            with accelerator.accumulate(model):
                loss = F.mse_loss(model(window), target)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.zero_grad()
                optimizer.step()
                scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    model = TCNForecaster()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    before = model.tcn[0].weight.detach().clone()
    train(accelerator, model, loader, optimizer, scheduler)
    return {"model": model}, {"weights_changed": not torch.equal(before, model.tcn[0].weight)}

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
