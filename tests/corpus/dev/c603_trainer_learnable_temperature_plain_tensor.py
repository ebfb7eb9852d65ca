import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DualEncoder(nn.Module):
    def __init__(self, q_dim=10, d_dim=14, dim=16, init_temp=0.07):
        super().__init__()
        self.query_tower = nn.Sequential(nn.Linear(q_dim, 32), nn.ReLU(), nn.Linear(32, dim))
        self.doc_tower = nn.Sequential(nn.Linear(d_dim, 32), nn.ReLU(), nn.Linear(32, dim))
        self.log_inv_temp = torch.full((), math.log(1.0 / init_temp), requires_grad=True)

    def forward(self, q, d):
        q = F.normalize(self.query_tower(q), dim=-1)
        d = F.normalize(self.doc_tower(d), dim=-1)
        return self.log_inv_temp.exp().clamp(max=100.0) * q @ d.t()


class RetrievalTrainer:
    def __init__(self, model, lr=1e-3, epochs=2):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        self.epochs = epochs

    def step(self, q, d):
        logits = self.model(q, d)
        labels = torch.arange(q.shape[0])
        loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, loader):
        self.model.train()
        history = []
        for _ in range(self.epochs):
            history.extend(self.step(q, d) for q, d in loader)
        return history


def make_pairs(n=96):
    g = torch.Generator().manual_seed(0)
    latent = torch.randn(n, 6, generator=g)
    q = torch.cat([latent, 0.1 * torch.randn(n, 4, generator=g)], dim=1)
    d = torch.cat([latent @ torch.randn(6, 6, generator=g), torch.randn(n, 8, generator=g)], dim=1)
    return DataLoader(TensorDataset(q, d), batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = DualEncoder()
    trainer = RetrievalTrainer(model)
    before = model.log_inv_temp.detach().clone()
    trainer.fit(make_pairs())
    in_opt = any(p is model.log_inv_temp for grp in trainer.optimizer.param_groups for p in grp["params"])
    return ({"model": model, "log_inv_temp": model.log_inv_temp},
            {"temperature_changed": not torch.equal(before, model.log_inv_temp), "temperature_in_optimizer": in_opt})

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
