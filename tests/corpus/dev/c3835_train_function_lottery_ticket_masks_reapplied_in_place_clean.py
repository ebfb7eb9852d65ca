import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, n_in=20, hidden=64, n_out=4):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def magnitude_masks(model, sparsity=0.6):
    masks = {}
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            k = int(sparsity * p.numel())
            threshold = p.detach().abs().flatten().kthvalue(k).values
            masks[name] = (p.detach().abs() > threshold).float()
    return masks


def apply_masks_(model, masks):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in masks:
                p.mul_(masks[name])


def train(model, loader, optimizer, masks=None, epochs=1):
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            if masks is not None:
                apply_masks_(model, masks)


def make_loader(n=96, n_in=20):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, n_in, generator=g)
    y = (x[:, :4].argmax(1))
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)


def main():
    torch.manual_seed(0)
    model = MLP()
    theta0 = copy.deepcopy(model.state_dict())
    loader = make_loader()
    train(model, loader, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    masks = magnitude_masks(model)
    model.load_state_dict(theta0)
    apply_masks_(model, masks)
    ticket0 = model.fc2.weight.detach().clone()
    train(model, loader, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), masks=masks, epochs=2)
    kept = masks["fc2.weight"].bool()
    return {"model": model}, {
        "surviving_weights_changed": not torch.equal(ticket0[kept], model.fc2.weight.detach()[kept]),
        "pruned_weights_zero": bool((model.fc2.weight.detach()[~kept] == 0).all()),
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
