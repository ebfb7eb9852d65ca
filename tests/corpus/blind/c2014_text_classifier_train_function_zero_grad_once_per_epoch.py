import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextCNN(nn.Module):
    def __init__(self, vocab=80, dim=16, n_filters=8, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(dim, n_filters, k) for k in (2, 3, 4))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(3 * n_filters, n_classes)

    def forward(self, ids):
        e = self.embed(ids).transpose(1, 2)
        pooled = [F.relu(conv(e)).amax(dim=2) for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))


def grad_norm(model):
    return sum(float(p.grad.norm()) ** 2 for p in model.parameters() if p.grad is not None) ** 0.5


def train(model, loader, optimizer, epochs=2):
    model.train()
    norms = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        for ids, labels in loader:
            logits = model(ids)
            loss = F.cross_entropy(logits, labels)
            loss.backward()
            norms.append(grad_norm(model))
            optimizer.step()
    return norms


def main():
    torch.manual_seed(0)
    ids = torch.randint(1, 80, (64, 12))
    labels = ids[:, 0] % 3
    loader = DataLoader(TensorDataset(ids, labels), batch_size=8, shuffle=True)
    model = TextCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    snapshots = []
    hook = model.fc.weight.register_hook(lambda g: snapshots.append(model.fc.weight.grad is None or not bool(model.fc.weight.grad.abs().sum() > 0)))
    train(model, loader, optimizer)
    hook.remove()
    return {"model": model}, {"grads_cleared_before_each_backward": all(snapshots)}

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
