import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def build_model(n_features=12):
    return nn.Sequential(nn.Linear(n_features, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2))


def standardize(x):
    return (x - x.mean(0)) / (x.std(0) + 1e-6)


def train(model, loader, optimizer, epochs=3):
    history = []
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for features, target in loader:
            optimizer.zero_grad()
            outputs = model(features)
            value_list = []
            for v in outputs[:, :1].cpu().detach().numpy():
                value_list.append(float(v[0]))
            preds = torch.Tensor(value_list)
            preds.requires_grad = True
            loss = F.mse_loss(preds, target)
            loss.backward()
            optimizer.step()
            running += loss.item()
        history.append(running / len(loader))
    return history


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    se, n = 0.0, 0
    for features, target in loader:
        se += F.mse_loss(model(features)[:, 0], target, reduction="sum").item()
        n += target.numel()
    model.train()
    return (se / max(n, 1)) ** 0.5


def main():
    torch.manual_seed(0)
    x = standardize(torch.randn(96, 12) * 3 + 1)
    y = x[:, :3].sum(1) + 0.1 * torch.randn(96)
    loader = DataLoader(TensorDataset(x[:80], y[:80]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[80:], y[80:]), batch_size=16)
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    w0 = model[0].weight.detach().clone()
    train(model, loader, optimizer)
    evaluate(model, val_loader)
    return {"model": model}, {"model_changed": not torch.equal(w0, model[0].weight)}

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
