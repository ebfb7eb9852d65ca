import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SharedBottom(nn.Module):
    def __init__(self, in_dim=12, hidden=32):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.ctr = nn.Linear(hidden, 1)
        self.cvr = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.shared(x)
        return {"ctr": self.ctr(h).squeeze(-1), "cvr": self.cvr(h).squeeze(-1)}


class MultiTaskTrainer:
    def __init__(self, model, task_weights, lr=1e-3):
        self.model = model
        self.task_weights = task_weights
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def train_epoch(self, loader):
        self.model.train()
        weighted = 0.0
        for x, targets in loader:
            preds = self.model(x)
            for task, w in self.task_weights.items():
                weighted = weighted + w * F.binary_cross_entropy_with_logits(preds[task], targets[:, ["ctr", "cvr"].index(task)])
            self.optimizer.zero_grad()
            weighted.backward()
            self.optimizer.step()
        return float(weighted)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 12, generator=g)
    targets = (torch.rand(64, 2, generator=g) < 0.3).float()
    trainer = MultiTaskTrainer(SharedBottom(), {"ctr": 1.0, "cvr": 0.5})
    trainer.train_epoch(DataLoader(TensorDataset(x, targets), batch_size=16, shuffle=True, generator=g))
    return {"model": trainer.model}

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
