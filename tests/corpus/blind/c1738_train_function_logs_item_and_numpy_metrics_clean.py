import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyVGG(nn.Module):
    def __init__(self, in_ch=3, hidden=8, n_classes=3):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(in_ch, hidden, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden * 4 * 4, n_classes))

    def forward(self, x):
        return self.classifier(self.block2(self.block1(x)))


def train_step(model, loader, loss_fn, optimizer):
    model.train()
    train_loss, train_acc = 0.0, 0.0
    for X, y in loader:
        y_logits = model(X)
        loss = loss_fn(y_logits, y)
        train_loss += loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        y_pred = y_logits.argmax(dim=1)
        train_acc += (y_pred == y).sum().item() / len(y)
    return train_loss / len(loader), train_acc / len(loader)


def test_step(model, loader, loss_fn):
    model.eval()
    losses, accs = [], []
    with torch.inference_mode():
        for X, y in loader:
            logits = model(X)
            losses.append(loss_fn(logits, y).item())
            accs.append((logits.argmax(1) == y).float().mean().item())
    return float(np.mean(losses)), float(np.mean(accs))


def train(model, train_loader, test_loader, optimizer, loss_fn=nn.CrossEntropyLoss(), epochs=2):
    results = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for _ in range(epochs):
        tl, ta = train_step(model, train_loader, loss_fn, optimizer)
        vl, va = test_step(model, test_loader, loss_fn)
        for k, v in zip(results, (tl, ta, vl, va)):
            results[k].append(v)
    return results


def plot_ready(results):
    """What plot_loss_curves() consumes: plain floats, safe for numpy / matplotlib."""
    return {k: np.asarray(v, dtype=np.float64) for k, v in results.items()}


def main():
    torch.manual_seed(42)
    g = torch.Generator().manual_seed(42)
    X = torch.randn(48, 3, 16, 16, generator=g)
    y = torch.randint(0, 3, (48,), generator=g)
    train_loader = DataLoader(TensorDataset(X[:32], y[:32]), batch_size=8, shuffle=True, generator=g)
    test_loader = DataLoader(TensorDataset(X[32:], y[32:]), batch_size=8)
    model = TinyVGG()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.block1[0].weight.detach().clone()
    curves = plot_ready(train(model, train_loader, test_loader, optimizer))
    return {"model": model}, {"conv1_changed": not torch.equal(w0, model.block1[0].weight),
                              "curves_are_float64": curves["train_loss"].dtype == np.float64,
                              "epochs_logged": len(curves["test_acc"])}

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
