import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class HARNet(nn.Module):
    """1-D CNN for human-activity recognition from wearable IMU windows."""

    def __init__(self, channels=6, classes=4):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(channels, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                                      nn.Conv1d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def client_loaders(n_clients=3, n=16, length=24):
    g = torch.Generator().manual_seed(0)
    loaders = []
    for c in range(n_clients):
        x = torch.randn(n, 6, length, generator=g) + 0.3 * c
        y = (x[:, 0].mean(-1) > 0.3 * c).long() + 2 * (x[:, 1].std(-1) > 1.0).long()
        loaders.append(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g))
    return loaders


def local_update(global_model, loader, optimizer, epochs):
    client = copy.deepcopy(global_model)
    client.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(client(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return client.state_dict(), len(loader.dataset)


@torch.no_grad()
def fedavg(global_model, client_states, sizes):
    total = float(sum(sizes))
    averaged = {}
    for key in client_states[0]:
        averaged[key] = sum(state[key].float() * (n / total) for state, n in zip(client_states, sizes))
    global_model.load_state_dict(averaged)


def evaluate(model, loaders):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x).argmax(-1) == y).sum().item() for ld in loaders for x, y in ld)
    return correct / sum(len(ld.dataset) for ld in loaders)


def run_federated(global_model, loaders, cfg):
    optimizer = torch.optim.SGD(global_model.parameters(), lr=cfg["client_lr"], momentum=0.9)
    history = []
    for _ in range(cfg["rounds"]):
        states, sizes = [], []
        for loader in loaders:
            state, n = local_update(global_model, loader, optimizer, cfg["local_epochs"])
            states.append(state)
            sizes.append(n)
        fedavg(global_model, states, sizes)
        history.append(evaluate(global_model, loaders))
    return history


def main():
    torch.manual_seed(0)
    global_model = HARNet()
    w0 = global_model.classifier.weight.detach().clone()
    conv0 = global_model.features[0].weight.detach().clone()
    history = run_federated(global_model, client_loaders(), {"rounds": 2, "local_epochs": 1, "client_lr": 0.05})
    return {"global_model": global_model}, {
        "global_classifier_changed": not torch.allclose(w0, global_model.classifier.weight, atol=1e-6),
        "global_features_changed": not torch.allclose(conv0, global_model.features[0].weight, atol=1e-6),
        "rounds_run": len(history),
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
