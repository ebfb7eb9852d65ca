import torch
import torch.nn as nn
import torch.nn.functional as F


class ChurnMLP(nn.Module):
    def __init__(self, n_features=12, hidden=32, n_classes=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(0.1),
                                  nn.Linear(hidden, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.out(self.body(x))


def accuracy(y_true, y_pred):
    return (y_true == y_pred).float().mean().item() * 100


def standardize(x):
    return (x - x.mean(0, keepdim=True)) / (x.std(0, keepdim=True) + 1e-6)


def train(model, X_train, y_train, loss_fn, optimiser, epochs=3):
    history = []
    for epoch in range(epochs):
        model.train()
        train_logits = model(X_train)
        train_preds = torch.softmax(train_logits, dim=1).argmax(dim=1).type(torch.float32)
        loss = loss_fn(train_preds, y_train)
        train_acc = accuracy(y_train, train_preds)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        history.append((loss.item(), train_acc))
    return history


def main():
    torch.manual_seed(0)
    X = standardize(torch.randn(64, 12) * 3 + 1)
    y = (X[:, 0] + 0.5 * X[:, 3] > 0).float()
    model = ChurnMLP()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train(model, X, y, nn.BCELoss(), optimiser)
    return {"model": model}, {"epochs": len(history)}

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
