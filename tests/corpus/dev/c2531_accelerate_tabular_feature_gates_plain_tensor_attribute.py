import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FeatureGate(nn.Module):
    """Learned soft feature selection in front of a tabular MLP."""

    def __init__(self, n_features, temperature=0.5):
        super().__init__()
        self.logits = torch.zeros(n_features, requires_grad=True)
        self.temperature = temperature

    def forward(self, x):
        return x * torch.sigmoid(self.logits / self.temperature)

    def sparsity_penalty(self):
        return torch.sigmoid(self.logits / self.temperature).mean()


class GatedMLP(nn.Module):
    def __init__(self, n_features=12, hidden=32):
        super().__init__()
        self.gate = FeatureGate(n_features)
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(self.gate(x)).squeeze(-1)


def train(accelerator, model, optimizer, scheduler, loader, l1=1e-2, epochs=3):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.binary_cross_entropy_with_logits(model(x), y) + l1 * model.gate.sparsity_penalty()
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
        scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = GatedMLP()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.9)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 12, generator=g)
    y = (x[:, 0] - x[:, 3] > 0).float()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    before = model.gate.logits.detach().clone()
    train(accelerator, model, optimizer, scheduler, loader)
    changed = not torch.equal(before, model.gate.logits)
    return {"gate.logits": model.gate.logits, "net": model.net}, {"gate_logits_changed": changed}

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
