import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class StationForecaster(nn.Module):
    """Per-station temperature forecaster trained across weather stations with federated averaging."""

    def __init__(self, n_features=5, hidden=16):
        super().__init__()
        self.rnn = nn.GRU(n_features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1]).squeeze(-1)


def station_loaders(n_stations=3, n=12, t=6):
    g = torch.Generator().manual_seed(0)
    loaders = []
    for s in range(n_stations):
        x = torch.randn(n, t, 5, generator=g) + 0.2 * s
        y = x[:, -1, 0] * 0.8 + 0.1 * s
        loaders.append(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, generator=g))
    return loaders


def local_update(fabric, global_model, loader, cfg):
    client = copy.deepcopy(global_model)
    optimizer = torch.optim.SGD(client.parameters(), lr=cfg["client_lr"], momentum=0.9)
    client, optimizer = fabric.setup(client, optimizer)
    loader = fabric.setup_dataloaders(loader)
    client.train()
    for _ in range(cfg["local_epochs"]):
        for x, y in loader:
            loss = F.smooth_l1_loss(client(x), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {k: v.detach().clone() for k, v in client.module.state_dict().items()}, len(loader.dataset)


@torch.no_grad()
def server_aggregate(global_model, states, sizes, server_lr):
    total = float(sum(sizes))
    for name, param in global_model.named_parameters():
        avg = sum(s[name] * (n / total) for s, n in zip(states, sizes))
        param.add_(server_lr * (avg - param))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    cfg = {"rounds": 2, "local_epochs": 1, "client_lr": 0.05, "server_lr": 1.0}
    global_model = StationForecaster()
    head0 = global_model.head.weight.detach().clone()
    loaders = station_loaders()
    for _ in range(cfg["rounds"]):
        states, sizes = zip(*[local_update(fabric, global_model, ld, cfg) for ld in loaders])
        server_aggregate(global_model, states, sizes, cfg["server_lr"])
    return {}, {
        "global_head_changed": not torch.allclose(head0, global_model.head.weight, atol=1e-6),
        "global_has_no_grad": all(p.grad is None for p in global_model.parameters()),
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
