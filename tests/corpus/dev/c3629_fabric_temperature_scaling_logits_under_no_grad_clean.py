import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, in_dim=12, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU())
        self.head = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.head(self.features(x))


class ModelWithTemperature(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.temperature = nn.Parameter(torch.ones(1) * 1.5)

    def forward(self, x):
        return self.model(x) / self.temperature

    def set_temperature(self, valid_loader, max_iter=20):
        logits_list, labels_list = [], []
        with torch.no_grad():
            for x, y in valid_loader:
                logits_list.append(self.model(x))
                labels_list.append(y)
        logits, labels = torch.cat(logits_list), torch.cat(labels_list)
        optimizer = torch.optim.LBFGS([self.temperature], lr=0.01, max_iter=max_iter)

        def closure():
            optimizer.zero_grad()
            loss = F.cross_entropy(logits / self.temperature, labels)
            loss.backward()
            return loss

        optimizer.step(closure)
        return self


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    y = torch.randint(0, 3, (96,))
    x = torch.randn(96, 12) + F.one_hot(y, 12).float() * 3
    train_loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16, shuffle=True))
    valid_loader = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=16)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        fabric.backward(F.cross_entropy(model(xb), yb))
        optimizer.step()
    head_after_training = model.module.head.weight.detach().clone()
    scaled = ModelWithTemperature(model.module)
    scaled.set_temperature(valid_loader)
    return {"temperature": scaled.temperature}, {
        "temperature_changed": abs(float(scaled.temperature) - 1.5) > 1e-4,
        "classifier_frozen_during_calibration": torch.equal(head_after_training, model.module.head.weight),
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
