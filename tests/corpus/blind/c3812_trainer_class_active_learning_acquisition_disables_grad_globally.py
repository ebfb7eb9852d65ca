import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MCDropoutNet(nn.Module):
    def __init__(self, n_in=10, hidden=32, n_classes=3, p=0.3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.net(x)


class ActiveLearner:
    """Pool-based active learning: train on the labeled set, then query the most uncertain pool points (BALD-lite)."""

    def __init__(self, model, x_labeled, y_labeled, x_pool, y_pool, lr=1e-2, mc_samples=5):
        self.model = model
        self.x_labeled, self.y_labeled = x_labeled, y_labeled
        self.x_pool, self.y_pool = x_pool, y_pool
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.mc_samples = mc_samples

    def train_round(self, epochs=3):
        self.model.train()
        loader = DataLoader(TensorDataset(self.x_labeled, self.y_labeled), batch_size=8, shuffle=True)
        for _ in range(epochs):
            for x, y in loader:
                loss = F.cross_entropy(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()

    def _score_pool(self):
        self.model.train()
        probs = torch.stack([F.softmax(self.model(self.x_pool), -1) for _ in range(self.mc_samples)]).mean(0)
        return -(probs * probs.clamp_min(1e-8).log()).sum(-1)

    def acquire(self, k=8):
        torch.set_grad_enabled(False)
        scores = self._score_pool()
        picked = scores.topk(k).indices
        keep = torch.ones(len(self.x_pool), dtype=torch.bool)
        keep[picked] = False
        self.x_labeled = torch.cat([self.x_labeled, self.x_pool[picked]])
        self.y_labeled = torch.cat([self.y_labeled, self.y_pool[picked]])
        self.x_pool, self.y_pool = self.x_pool[keep], self.y_pool[keep]

    def run(self, rounds=3, k=8):
        for _ in range(rounds):
            self.train_round()
            self.acquire(k)


def main():
    torch.manual_seed(0)
    centers = torch.randn(3, 10) * 2
    y = torch.arange(120) % 3
    x = centers[y] + torch.randn(120, 10)
    model = MCDropoutNet()
    learner = ActiveLearner(model, x[:12], y[:12], x[12:], y[12:])
    w0 = model.net[0].weight.detach().clone()
    learner.run()
    return {"model": model}, {
        "labeled_size": len(learner.x_labeled),
        "model_changed": not torch.equal(w0, model.net[0].weight),
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
