import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, in_dim=10, num_classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.net(x)


class TemperatureScaler:
    """Post-hoc calibration (Guo et al. 2017): fit a single temperature on held-out logits."""

    def __init__(self, model, init_temp=1.5):
        self.model = model
        # fit in float64: NLL over a whole validation set is badly conditioned in float32
        self.log_temp = torch.full((1,), math.log(init_temp), requires_grad=True).double()

    @torch.no_grad()
    def collect_logits(self, loader):
        self.model.eval()
        logits, labels = zip(*[(self.model(x), y) for x, y in loader])
        return torch.cat(logits).double(), torch.cat(labels)

    def fit(self, loader, max_iter=20):
        logits, labels = self.collect_logits(loader)
        optimizer = torch.optim.LBFGS([self.log_temp], lr=0.1, max_iter=max_iter)

        def closure():
            optimizer.zero_grad()
            loss = F.cross_entropy(logits / self.log_temp.exp(), labels)
            loss.backward()
            return loss

        optimizer.step(closure)
        return float(self.log_temp.exp())


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()


def make_loaders(n=160):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 10, generator=g)
    y = (x[:, :4] + 0.5 * torch.randn(n, 4, generator=g)).argmax(1)
    return (DataLoader(TensorDataset(x[:128], y[:128]), batch_size=32, shuffle=True, generator=g),
            DataLoader(TensorDataset(x[128:], y[128:]), batch_size=32))


def main():
    torch.manual_seed(0)
    model = Classifier()
    train_loader, val_loader = make_loaders()
    train(model, train_loader, torch.optim.SGD(model.parameters(), lr=0.1))
    scaler = TemperatureScaler(model)
    temperature = scaler.fit(val_loader)
    return {"model": model}, {"temperature": round(temperature, 3)}

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
