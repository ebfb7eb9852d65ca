import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextCNN(nn.Module):
    def __init__(self, vocab=80, emb=24, widths=(2, 3, 4), channels=16, n_cls=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(emb, channels, w) for w in widths)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(channels * len(widths), n_cls)

    def forward(self, ids):
        e = self.embed(ids).transpose(1, 2)
        pooled = [F.relu(conv(e)).max(-1).values for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, -1)))


def evaluate(model, loader):
    """Accuracy on the held-out split; no graph needed."""
    model.eval()
    torch.set_grad_enabled(False)
    correct = total = 0
    for ids, y in loader:
        correct += (model(ids).argmax(-1) == y).sum().item()
        total += y.numel()
    model.train()
    return correct / max(total, 1)


def train(model, train_loader, val_loader, optimizer, scheduler, epochs=2):
    history = []
    for epoch in range(epochs):
        model.train()
        for ids, y in train_loader:
            loss = F.cross_entropy(model(ids), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        history.append(evaluate(model, val_loader))
    return history


def make_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 80, (n, 14), generator=g)
    y = (ids[:, :3].sum(1) % 3)
    return TensorDataset(ids, y)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(TextCNN())
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    train_loader = DataLoader(make_split(48, 0), batch_size=16, shuffle=True)
    val_loader = DataLoader(make_split(16, 1), batch_size=16)
    train(model, train_loader, val_loader, optimizer, scheduler)
    return {"model": model.module}

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
