import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioTagger(nn.Module):
    def __init__(self, n_mels=16, n_tags=5):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, 24, 3, padding=1), nn.ReLU(),
                                  nn.Conv1d(24, 24, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(24, n_tags)

    def forward(self, spec):
        return self.head(self.conv(spec).mean(-1))


def evaluate(model, loader, max_batches=None):
    """Quick validation pass; max_batches keeps mid-epoch checks cheap."""
    torch.set_grad_enabled(False)
    model.eval()
    correct = total = 0
    for i, (spec, tags) in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            return correct / max(total, 1)
        pred = (model(spec) > 0).float()
        correct += (pred == tags).float().sum().item()
        total += tags.numel()
    model.train()
    torch.set_grad_enabled(True)
    return correct / max(total, 1)


def train(model, train_loader, val_loader, optimizer, scheduler, epochs=2):
    history = []
    for epoch in range(epochs):
        model.train()
        for spec, tags in train_loader:
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(spec), tags)
            loss.backward()
            optimizer.step()
        scheduler.step()
        history.append(evaluate(model, val_loader, max_batches=1))
    return history


def make_loaders(n=96, n_mels=16, frames=20, n_tags=5):
    g = torch.Generator().manual_seed(0)
    spec = torch.randn(n, n_mels, frames, generator=g)
    tags = (spec[:, :n_tags].mean(-1) > 0).float()
    ds = TensorDataset(spec, tags)
    return (DataLoader(ds, batch_size=16, shuffle=True, generator=g),
            DataLoader(TensorDataset(spec[:48], tags[:48]), batch_size=16))


def main():
    torch.manual_seed(0)
    model = AudioTagger()
    train_loader, val_loader = make_loaders()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    train(model, train_loader, val_loader, optimizer, scheduler)
    return {"model": model}

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
