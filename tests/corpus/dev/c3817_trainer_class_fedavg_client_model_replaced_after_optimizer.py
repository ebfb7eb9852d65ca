import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ActivityNet(nn.Module):
    """1D CNN over wearable accelerometer windows (3 axes x 32 samples)."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(3, 8, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(4))
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class Client:
    def __init__(self, cid, model, dataset, lr=0.05, local_epochs=1):
        self.cid = cid
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
        self.loader = DataLoader(dataset, batch_size=8, shuffle=True)
        self.num_samples = len(dataset)
        self.local_epochs = local_epochs

    def receive(self, global_model):
        self.model = copy.deepcopy(global_model)

    def local_train(self):
        self.model.train()
        for _ in range(self.local_epochs):
            for x, y in self.loader:
                loss = F.cross_entropy(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}, self.num_samples


class FedAvgServer:
    def __init__(self, global_model, clients):
        self.global_model = global_model
        self.clients = clients

    @torch.no_grad()
    def aggregate(self, updates):
        total = sum(n for _, n in updates)
        averaged = {k: sum(sd[k] * (n / total) for sd, n in updates) for k in updates[0][0]}
        self.global_model.load_state_dict(averaged)

    def run(self, rounds=3):
        for _ in range(rounds):
            updates = []
            for client in self.clients:
                client.receive(self.global_model)
                updates.append(client.local_train())
            self.aggregate(updates)


def make_client_data(cid, n=24):
    g = torch.Generator().manual_seed(cid)
    y = torch.arange(n) % 3
    t = torch.linspace(0, 6.28, 32)
    x = 0.3 * torch.randn(n, 3, 32, generator=g)
    for i in range(n):
        x[i, int(y[i])] += torch.sin((1 + int(y[i])) * t)
    return TensorDataset(x, y)


def main():
    torch.manual_seed(0)
    global_model = ActivityNet()
    clients = [Client(c, copy.deepcopy(global_model), make_client_data(c)) for c in range(3)]
    server = FedAvgServer(global_model, clients)
    w0 = global_model.classifier.weight.detach().clone()
    server.run(rounds=3)
    first = clients[0].model
    return {"client0": first}, {
        "global_changed": not torch.allclose(w0, global_model.classifier.weight, rtol=0.0, atol=1e-6),
        "client_model_got_grads": first.classifier.weight.grad is not None,
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
