import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SpectralGate(nn.Module):
    """Noise gate on magnitude spectra: bins below a learned threshold are zeroed before the post-filter."""

    def __init__(self, n_bins=16):
        super().__init__()
        self.threshold = nn.Parameter(torch.tensor(0.3))
        self.post = nn.Sequential(nn.Linear(n_bins, 32), nn.ReLU(), nn.Linear(32, n_bins))

    def forward(self, spec):
        gated = spec * (spec > self.threshold).float()
        return F.relu(gated + self.post(gated))


def train(model, loader, optimizer, scheduler, epochs=2):
    for _ in range(epochs):
        for noisy, clean in loader:
            loss = F.mse_loss(model(noisy), clean)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    clean = torch.relu(torch.randn(64, 16)) * (torch.rand(64, 16) > 0.5)
    noisy = clean + 0.4 * torch.rand(64, 16)
    loader = DataLoader(TensorDataset(noisy, clean), batch_size=16, shuffle=True)
    gate = SpectralGate()
    model = torch.compile(gate, backend="eager")
    optimizer = torch.optim.Adam(gate.parameters(), lr=2e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    thr0 = gate.threshold.detach().clone()
    post0 = gate.post[0].weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    return {"gate": gate}, {
        "threshold_changed": not torch.equal(thr0, gate.threshold),
        "post_filter_changed": not torch.equal(post0, gate.post[0].weight),
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
