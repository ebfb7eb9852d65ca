import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ODEFunc(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, 32), nn.Tanh(), nn.Linear(32, hidden))

    def forward(self, t, h):
        return self.net(h)


def euler_evolve(func, h, t0, t1, n_steps=3):
    dt = (t1 - t0) / n_steps
    for k in range(n_steps):
        h += dt * func(t0 + k * dt, h)
    return h


class ODERNNEncoder(nn.Module):
    """ODE-RNN: evolve the hidden state between irregular observations, then a GRU update."""

    def __init__(self, obs_dim=3, hidden=16):
        super().__init__()
        self.func = ODEFunc(hidden)
        self.cell = nn.GRUCell(obs_dim, hidden)
        self.hidden = hidden

    def forward(self, values, times):
        h = torch.zeros(values.size(0), self.hidden)
        prev_t = times[0]
        for i in range(values.size(1)):
            h = euler_evolve(self.func, self.cell(values[:, i], h), prev_t, times[i])
            prev_t = times[i]
        return h


class IrregularClassifier(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.encoder = ODERNNEncoder()
        self.head = nn.Linear(16, n_classes)

    def forward(self, values, times):
        return self.head(self.encoder(values, times))


def train_one_epoch(model, loader, times, optimizer, accelerator):
    model.train()
    for values, labels in loader:
        loss = F.cross_entropy(model(values, times), labels)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return loss.item()


def physionet_like(n=24, steps=5):
    g = torch.Generator().manual_seed(0)
    values = torch.randn(n, steps, 3, generator=g)
    labels = (values[:, :, 0].mean(1) > 0).long()
    times = torch.cumsum(torch.rand(steps, generator=g) + 0.1, 0)
    return DataLoader(TensorDataset(values, labels), batch_size=8, shuffle=True, generator=g), times


def main():
    set_seed(0)
    accelerator = Accelerator()
    loader, times = physionet_like()
    model = IrregularClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for _ in range(2):
        train_one_epoch(model, loader, times, optimizer, accelerator)
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
