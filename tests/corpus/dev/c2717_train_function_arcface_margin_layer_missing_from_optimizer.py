import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FaceEmbedder(nn.Module):
    def __init__(self, in_dim=20, emb=8):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 32), nn.BatchNorm1d(32), nn.PReLU(), nn.Linear(32, emb))

    def forward(self, x):
        return self.body(x)


class ArcMarginProduct(nn.Module):
    def __init__(self, emb=8, n_ids=5, s=16.0, m=0.3):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_ids, emb))
        nn.init.xavier_uniform_(self.weight)
        self.s, self.cos_m, self.sin_m = s, math.cos(m), math.sin(m)

    def forward(self, emb, label):
        cosine = F.linear(F.normalize(emb), F.normalize(self.weight))
        sine = torch.sqrt((1.0 - cosine.pow(2)).clamp(1e-6, 1.0))
        phi = cosine * self.cos_m - sine * self.sin_m
        one_hot = F.one_hot(label, cosine.size(1)).to(cosine.dtype)
        return self.s * (one_hot * phi + (1.0 - one_hot) * cosine)


def make_optimizer(model, lr=0.05, weight_decay=5e-4):
    return torch.optim.SGD([{"params": model.parameters()}], lr=lr, momentum=0.9,
                           weight_decay=weight_decay)


def train(model, metric_fc, loader, optimizer, scheduler, epochs=2):
    criterion = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, label in loader:
            logits = metric_fc(model(x), label)
            loss = criterion(logits, label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(40, 20)
    ids = torch.arange(40) % 5
    x[:, :5] += F.one_hot(ids, 5) * 2
    loader = DataLoader(TensorDataset(x, ids), batch_size=10, shuffle=True)
    model, metric_fc = FaceEmbedder(), ArcMarginProduct()
    optimizer = make_optimizer(model)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    before = metric_fc.weight.detach().clone()
    train(model, metric_fc, loader, optimizer, scheduler)
    facts = {"arc_weight_changed": not torch.equal(before, metric_fc.weight)}
    return {"model": model, "metric_fc": metric_fc}, facts

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
