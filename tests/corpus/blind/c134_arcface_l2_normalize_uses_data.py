import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def l2_normalize(x, dim=1, eps=1e-12):
    norm = x.data.norm(p=2, dim=dim, keepdim=True).clamp_min(eps)
    return x.data / norm


class ArcMarginProduct(nn.Module):
    def __init__(self, in_features, n_classes, s=16.0, m=0.3):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, in_features))
        nn.init.xavier_uniform_(self.weight)
        self.s, self.m = s, m

    def forward(self, emb, labels):
        cosine = F.linear(emb, F.normalize(self.weight, dim=1))
        theta = torch.acos(cosine.clamp(-1 + 1e-6, 1 - 1e-6))
        target = torch.cos(theta + self.m)
        one_hot = F.one_hot(labels, cosine.size(1)).to(cosine.dtype)
        return self.s * (one_hot * target + (1 - one_hot) * cosine)


class FaceEmbedder(nn.Module):
    def __init__(self, in_dim=32, emb_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 64), nn.BatchNorm1d(64), nn.PReLU(), nn.Linear(64, emb_dim))

    def forward(self, x):
        return l2_normalize(self.backbone(x))


def train(model, metric_fc, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, labels in loader:
            logits = metric_fc(model(x), labels)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 32), torch.randint(0, 6, (48,))), batch_size=12, shuffle=True)
    model, metric_fc = FaceEmbedder(), ArcMarginProduct(16, 6)
    optimizer = torch.optim.SGD([{"params": model.parameters()}, {"params": metric_fc.parameters()}],
                                lr=0.1, momentum=0.9, weight_decay=5e-4)
    before = model.backbone[0].weight.detach().clone()
    train(model, metric_fc, loader, optimizer)
    facts = {"backbone_changed": not torch.equal(before, model.backbone[0].weight.detach())}
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
