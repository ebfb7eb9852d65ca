import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MoDBlock(nn.Module):
    def __init__(self, d, capacity=0.5):
        super().__init__()
        self.router = nn.Linear(d, 1)
        self.block = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.capacity = capacity

    def forward(self, x):
        b, t, d = x.shape
        k = max(1, int(t * self.capacity))
        weights = self.router(x).squeeze(-1)
        top = weights.topk(k, dim=1).indices.sort(dim=1).values
        idx = top.unsqueeze(-1).expand(-1, -1, d)
        selected = x.gather(1, idx)
        gate = torch.sigmoid(weights.gather(1, top)).unsqueeze(-1)
        update = self.block(selected) * gate
        return x.scatter_add(1, idx, update)


class MoDClassifier(nn.Module):
    def __init__(self, vocab=20, d=16, n_layers=2, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([MoDBlock(d) for _ in range(n_layers)])
        self.head = nn.Linear(d, n_classes)

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        return self.head(x.mean(1))


class Trainer:
    def __init__(self, model, lr=3e-3):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.history = []

    def fit(self, loader, epochs=2):
        self.model.train()
        for _ in range(epochs):
            for ids, y in loader:
                loss = F.cross_entropy(self.model(ids), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.history.append(loss.item())


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 20, (48, 8), generator=g)
    y = (ids[:, 0] % 3)
    model = MoDClassifier()
    r0 = model.layers[0].router.weight.detach().clone()
    trainer = Trainer(model)
    trainer.fit(DataLoader(TensorDataset(ids, y), batch_size=16, shuffle=True, generator=g))
    return {"model": model}, {"router_changed": not torch.equal(r0, model.layers[0].router.weight)}

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
