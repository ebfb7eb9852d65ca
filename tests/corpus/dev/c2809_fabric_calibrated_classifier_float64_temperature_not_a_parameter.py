import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TabularEncoder(nn.Module):
    def __init__(self, n_features=10, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.GELU(), nn.Dropout(0.1),
                                 nn.Linear(hidden, hidden), nn.GELU())

    def forward(self, x):
        return self.net(x)


class CalibratedClassifier(nn.Module):
    """Classifier whose logits are divided by a learned temperature; the temperature is kept in float64
    because the calibration term (log-sum-exp over many classes) is sensitive to rounding."""

    def __init__(self, n_features=10, n_classes=4, init_temp=1.5):
        super().__init__()
        self.encoder = TabularEncoder(n_features)
        self.head = nn.Linear(32, n_classes)
        self.log_temp = nn.Parameter(torch.full((1,), float(init_temp)).log()).double()

    @property
    def temperature(self):
        return self.log_temp.exp()

    def forward(self, x):
        logits = self.head(self.encoder(x)).double()
        return logits / self.temperature


def expected_calibration_error(probs, labels, n_bins=5):
    conf, pred = probs.max(dim=1)
    ece = torch.zeros((), dtype=probs.dtype)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=probs.dtype)
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            acc = (pred[in_bin] == labels[in_bin]).double().mean()
            ece += in_bin.double().mean() * (conf[in_bin].mean() - acc).abs()
    return float(ece)


def make_loader(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 10, generator=g)
    y = (x[:, :4].argmax(dim=1) + (torch.rand(n, generator=g) < 0.2).long()) % 4
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def run(fabric, model, optimizer, loader, epochs=2):
    model.train()
    for epoch in range(epochs):
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        with torch.no_grad():
            probs = model(x).softmax(dim=1)
            fabric.log("ece", expected_calibration_error(probs, y))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = CalibratedClassifier()
    temp_before = float(model.temperature)
    head_before = model.head.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    run(fabric, model, optimizer, loader)
    net = model.module
    facts = {"temperature_changed": float(net.temperature) != temp_before,
             "temperature_is_parameter": any(n.endswith("log_temp") for n, _ in net.named_parameters()),
             "head_changed": not torch.equal(head_before, net.head.weight)}
    return {"model": net}, facts

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
