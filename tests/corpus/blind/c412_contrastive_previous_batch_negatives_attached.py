import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SiameseEncoder(nn.Module):
    def __init__(self, in_dim=24, hidden=48, out_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, out_dim)

    def forward(self, x):
        return F.normalize(self.head(self.backbone(x)), dim=-1)


class ContrastiveTrainer:
    """InfoNCE with the previous batch's key embeddings reused as extra negatives."""

    def __init__(self, model, optimizer, temperature=0.1, noise=0.1, seed=0):
        self.model = model
        self.optimizer = optimizer
        self.temperature = temperature
        self.noise = noise
        self.prev_keys = None
        self.gen = torch.Generator().manual_seed(seed)

    def augment(self, x):
        return x + self.noise * torch.randn(x.shape, generator=self.gen)

    def info_nce(self, queries, keys):
        candidates = keys if self.prev_keys is None else torch.cat([keys, self.prev_keys], dim=0)
        logits = queries @ candidates.t() / self.temperature
        targets = torch.arange(queries.size(0))
        return F.cross_entropy(logits, targets)

    def train_step(self, x):
        queries = self.model(self.augment(x))
        keys = self.model(self.augment(x))
        loss = self.info_nce(queries, keys)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.prev_keys = keys
        return loss.item()

    def fit(self, loader, epochs=2):
        for _ in range(epochs):
            for (x,) in loader:
                self.train_step(x)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(96, 24, generator=g)), batch_size=32, shuffle=True, generator=g)
    model = SiameseEncoder()
    trainer = ContrastiveTrainer(model, torch.optim.Adam(model.parameters(), lr=1e-3))
    trainer.fit(loader)
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
