import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CreditScorer(nn.Module):
    def __init__(self, in_dim=14, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, 2))

    def forward(self, x):
        return self.net(x)


def roc_auc(scores, labels):
    order = np.argsort(scores)
    ranks = np.empty_like(order, dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1)


@torch.no_grad()
def validate(model, loader):
    model.eval()
    losses, scores, labels = [], [], []
    for x, y in loader:
        logits = model(x)
        losses.append(F.cross_entropy(logits, y).item())
        scores.append(logits.softmax(-1)[:, 1].cpu().numpy())
        labels.append(y.numpy())
    return float(np.mean(losses)), roc_auc(np.concatenate(scores), np.concatenate(labels))


def fit(model, train_loader, val_loader, optimizer, scheduler, epochs=3, patience=2):
    best_auc, bad_epochs, history = -np.inf, 0, []
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item() * x.size(0)
        val_loss, val_auc = validate(model, val_loader)
        scheduler.step(val_loss)
        history.append((running / len(train_loader.dataset), val_loss, val_auc))
        if val_auc > best_auc:
            best_auc, bad_epochs = val_auc, 0
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    return history


def make_loaders(n=192, in_dim=14):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, in_dim, generator=g)
    y = ((x[:, 0] + 0.5 * x[:, 1] + 0.3 * torch.randn(n, generator=g)) > 0).long()
    return (DataLoader(TensorDataset(x[:144], y[:144]), batch_size=32, shuffle=True, generator=g),
            DataLoader(TensorDataset(x[144:], y[144:]), batch_size=48))


def main():
    torch.manual_seed(0)
    model = CreditScorer()
    train_loader, val_loader = make_loaders()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0)
    history = fit(model, train_loader, val_loader, optimizer, scheduler)
    return {"model": model}, {"epochs_run": len(history) > 0}

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
