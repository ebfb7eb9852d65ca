import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FeatureQueue:
    """FIFO of recent embeddings, used as extra negatives (MoCo-style)."""

    def __init__(self, dim, size=32):
        self.bank = torch.zeros(size, dim)
        self.ptr = 0

    def push(self, feats):
        n = feats.size(0)
        idx = (torch.arange(n) + self.ptr) % self.bank.size(0)
        self.bank[idx] = feats
        self.ptr = (self.ptr + n) % self.bank.size(0)


class EmbeddingClassifier(nn.Module):
    def __init__(self, in_dim=12, dim=16, n_classes=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.classifier = nn.Linear(dim, n_classes)
        self.queue = FeatureQueue(dim)

    def forward(self, x):
        feats = self.backbone(x)
        self.queue.push(feats.detach_())
        return self.classifier(feats), feats


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            logits, feats = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 12), torch.randint(0, 4, (48,))), batch_size=12, shuffle=True)
    model = EmbeddingClassifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.backbone[0].weight.detach().clone()
    train(model, loader, optimizer)
    facts = {"backbone_changed": not torch.equal(before, model.backbone[0].weight.detach())}
    return {"model": model}, facts

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
