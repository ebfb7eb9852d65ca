import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def compute_class_weight(labels, n_classes):
    """NumPy port of sklearn's compute_class_weight('balanced', ...)."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    return len(labels) / (n_classes * np.maximum(counts, 1.0))


def macro_f1(logits, labels, n_classes):
    pred = logits.detach().cpu().numpy().argmax(axis=1)
    true = labels.cpu().numpy()
    scores = []
    for c in range(n_classes):
        tp = np.sum((pred == c) & (true == c))
        fp = np.sum((pred == c) & (true != c))
        fn = np.sum((pred != c) & (true == c))
        scores.append(2 * tp / max(2 * tp + fp + fn, 1))
    return float(np.mean(scores))


@torch.no_grad()
def confusion_matrix(model, x, y, n_classes):
    model.eval()
    pred = model(x).argmax(dim=1).numpy()
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y.numpy(), pred), 1)
    model.train()
    return cm


class TransactionNet(nn.Module):
    def __init__(self, n_features=8, n_classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                  nn.Linear(32, 16), nn.ReLU())
        self.out = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.out(self.body(x))


def make_imbalanced(n=96, n_classes=3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=g)
    score = x[:, 0] + 0.5 * x[:, 1]
    y = torch.zeros(n, dtype=torch.long)
    y[score > 1.0] = 1
    y[score > 1.8] = 2
    return x, y


def train(model, loader, criterion, optimizer, epochs=3, n_classes=3):
    history = []
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            logits = model(x)
            loss = criterion(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(macro_f1(logits, y, n_classes))
    return history


def main():
    torch.manual_seed(0)
    n_classes = 3
    x, y = make_imbalanced(n_classes=n_classes)
    weights = compute_class_weight(y.numpy(), n_classes)
    criterion = nn.CrossEntropyLoss(weight=torch.from_numpy(weights).float())
    model = nn.DataParallel(TransactionNet(n_classes=n_classes))
    out_before = model.module.out.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    history = train(model, loader, criterion, optimizer, n_classes=n_classes)
    print(confusion_matrix(model, x, y, n_classes))
    facts = {"out_changed": not torch.equal(out_before, model.module.out.weight),
             "f1_logged": len(history)}
    return {"net": model.module}, facts

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
