import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def build_model():
    backbone = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
    head = nn.Linear(16, 3)
    return nn.Sequential(backbone, head)


def unfreeze_and_add_param_group(module, optimizer, lr):
    module.requires_grad_(True)
    optimizer.add_param_group({"params": [p for p in module.parameters()], "lr": lr})


def fit(model, loader, epochs=3, unfreeze_at=1):
    backbone, head = model[0], model[1]
    backbone.requires_grad_(False)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    for epoch in range(epochs):
        if epoch == unfreeze_at:
            unfreeze_and_add_param_group(backbone, optimizer, lr=1e-3)
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(48, 10)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = build_model()
    b0 = model[0][0].weight.detach().clone()
    h0 = model[1].weight.detach().clone()
    fit(model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True))
    return {"model": model}, {
        "backbone_changed": not torch.equal(b0, model[0][0].weight),
        "head_changed": not torch.equal(h0, model[1].weight),
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
