import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ErrorCorrectionCell(nn.Module):
    """s_{t+1} = tanh(A s_t + B (y_t - C s_t)): an error-correction state-space cell."""

    def __init__(self, n_obs, n_state):
        super().__init__()
        self.A = (0.1 * torch.randn(n_state, n_state)).requires_grad_()
        self.B = nn.Linear(n_obs, n_state, bias=False)
        self.register_buffer("C", torch.eye(n_obs, n_state))

    def forward(self, state, observation=None):
        expectation = state @ self.C.T
        if observation is None:
            return torch.tanh(state @ self.A.T), expectation
        return torch.tanh(state @ self.A.T + self.B(observation - expectation)), expectation


class ECNNForecaster(nn.Module):
    def __init__(self, n_obs=3, n_state=8, horizon=2):
        super().__init__()
        self.horizon = horizon
        self.init_state = nn.Parameter(torch.zeros(1, n_state))
        self.cell = ErrorCorrectionCell(n_obs, n_state)
        self.exog = nn.Linear(2, n_state)

    def forward(self, past, exog):
        state = self.init_state.expand(past.shape[0], -1) + self.exog(exog)
        fitted = []
        for t in range(past.shape[1]):
            state, expectation = self.cell(state, past[:, t])
            fitted.append(expectation)
        forecast = []
        for _ in range(self.horizon):
            state, expectation = self.cell(state)
            forecast.append(expectation)
        return torch.stack(fitted, 1), torch.stack(forecast, 1)


def make_loader(n=32, past=6, horizon=2):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(past + horizon).float()
    phase = torch.rand(n, 1, 1, generator=g) * 6.28
    series = torch.sin(0.7 * t[None, :, None] + phase + torch.arange(3).float())
    exog = torch.randn(n, 2, generator=g)
    return DataLoader(TensorDataset(series[:, :past], series[:, past:], exog), batch_size=8, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ECNNForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    A_before = model.cell.A.detach().clone()
    for epoch in range(3):
        for past, future, exog in loader:
            fitted, forecast = model(past, exog)
            loss = F.mse_loss(fitted, past) + F.mse_loss(forecast, future)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    facts = {"transition_changed": not torch.equal(A_before, model.cell.A),
             "transition_in_parameters": any(p is model.cell.A for p in model.parameters())}
    return {"model": model.module, "transition_A": model.cell.A}, facts

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
