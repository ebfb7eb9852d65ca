import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TabularResNet(nn.Module):
    def __init__(self, d_in=12, width=32, n_blocks=2, n_out=2):
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width)) for _ in range(n_blocks))
        self.out = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, n_out))

    def forward(self, x):
        h = self.inp(x)
        for blk in self.blocks:
            h = h + blk(h)
        return self.out(h)


def run_epoch(model, loader, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = sum((model(x).argmax(-1) == y).sum().item() for x, y in loader)
    return correct / len(loader.dataset)


def fit_with_restarts(model, train_loader, val_loader, optimizer, epochs=3):
    best_acc, best_state = -1.0, None
    for epoch in range(epochs):
        run_epoch(model, train_loader, optimizer)
        acc = evaluate(model, val_loader)
        if acc > best_acc:
            best_acc, best_state = acc, copy.deepcopy(model.module.state_dict())
    # fine-tune from the best checkpoint at a lower learning rate
    restored = TabularResNet()
    restored.load_state_dict(best_state)
    model = nn.DataParallel(restored)
    for group in optimizer.param_groups:
        group["lr"] *= 0.1
    snapshot = restored.inp.weight.detach().clone()
    finetune_loss = run_epoch(model, train_loader, optimizer)
    return model, snapshot


def make_loaders(n=96):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 12, generator=g)
    y = (x[:, 0] + x[:, 3] * x[:, 5] > 0).long()
    ds = TensorDataset(x, y)
    return DataLoader(ds, batch_size=16, shuffle=True, generator=g), DataLoader(ds, batch_size=32)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(TabularResNet())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_loader, val_loader = make_loaders()
    first0 = model.module.inp.weight.detach().clone()
    model, snapshot = fit_with_restarts(model, train_loader, val_loader, optimizer)
    facts = {"restored_model_changed": not torch.equal(snapshot, model.module.inp.weight),
             "loaded_best_checkpoint": not torch.equal(first0, snapshot)}
    return {"model": model.module}, facts

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
