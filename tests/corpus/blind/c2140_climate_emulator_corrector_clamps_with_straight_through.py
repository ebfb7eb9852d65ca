import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def keep_gradient_through(x, corrected):
    """Forward returns the corrected value; backward treats the correction as identity."""
    return x + (corrected - x).detach()


class PhysicalCorrector(nn.Module):
    def __init__(self, positive_idx=(0, 2), max_value=5.0):
        super().__init__()
        self.positive_idx, self.max_value = list(positive_idx), max_value

    def forward(self, state):
        fixed = state.clone()
        fixed[:, self.positive_idx] = state[:, self.positive_idx].clamp(min=0.0)
        fixed = fixed.clamp(max=self.max_value)
        return keep_gradient_through(state, fixed)


class Emulator(nn.Module):
    def __init__(self, n_vars=4, hidden=32):
        super().__init__()
        self.step_net = nn.Sequential(nn.Linear(n_vars, hidden), nn.GELU(), nn.Linear(hidden, n_vars))
        self.corrector = PhysicalCorrector()

    def forward(self, state):
        return self.corrector(state + self.step_net(state))


def train(model, loader, optimizer, rollout=2):
    for x, y in loader:
        pred, loss = x, 0.0
        for _ in range(rollout):
            pred = model(pred)
            loss = loss + F.mse_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    y = torch.stack([x[:, 0].abs(), x[:, 1], (x[:, 2] - 1).clamp(min=0), x[:, 3] * 0.5], dim=1)
    model = Emulator()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    w0 = model.step_net[0].weight.detach().clone()
    train(model, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), optimizer)
    with torch.no_grad():
        out = model(torch.randn(16, 4) * 3)
    return ({"model": model},
            {"step_net_changed": not torch.equal(w0, model.step_net[0].weight),
             "outputs_respect_bounds": bool((out[:, [0, 2]] >= 0).all() and (out <= 5.0).all())})

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
