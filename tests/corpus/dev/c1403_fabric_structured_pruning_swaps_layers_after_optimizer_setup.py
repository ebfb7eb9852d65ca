import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SensorMLP(nn.Module):
    def __init__(self, in_dim=20, hidden=32, n_classes=4):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.head(F.relu(self.fc2(F.relu(self.fc1(x)))))


@torch.no_grad()
def prune_hidden_units(model, keep_ratio=0.5):
    """Drop the fc1 units with the smallest L1 norm and rebuild fc1/fc2 at the smaller width."""
    norms = model.fc1.weight.abs().sum(dim=1)
    keep = norms.argsort(descending=True)[: int(keep_ratio * norms.numel())].sort().values
    fc1 = nn.Linear(model.fc1.in_features, keep.numel())
    fc1.weight.copy_(model.fc1.weight[keep])
    fc1.bias.copy_(model.fc1.bias[keep])
    fc2 = nn.Linear(keep.numel(), model.fc2.out_features)
    fc2.weight.copy_(model.fc2.weight[:, keep])
    fc2.bias.copy_(model.fc2.bias)
    model.fc1, model.fc2 = fc1, fc2


def run_epoch(fabric, model, loader, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(2)
    data = TensorDataset(torch.randn(64, 20, generator=g), torch.randint(0, 4, (64,), generator=g))
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=16, shuffle=True, generator=g))
    net = SensorMLP()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(net, optimizer)
    run_epoch(fabric, model, loader, optimizer)
    prune_hidden_units(net)
    fc1_before = net.fc1.weight.detach().clone()
    run_epoch(fabric, model, loader, optimizer)
    return {"model": net}, {"pruned_fc1_changed": not torch.equal(fc1_before, net.fc1.weight)}

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
