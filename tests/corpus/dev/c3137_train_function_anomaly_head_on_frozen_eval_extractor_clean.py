import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FeatureExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Conv2d(3, 8, 3, padding=1)
        self.layer2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)

    def forward(self, x):
        f1 = F.relu(self.layer1(x))
        f2 = F.relu(self.layer2(f1))
        return torch.cat([F.adaptive_avg_pool2d(f1, 1).flatten(1), F.adaptive_avg_pool2d(f2, 1).flatten(1)], 1)


class AnomalyHead(nn.Module):
    def __init__(self, in_dim=24, dim=16, momentum=0.9):
        super().__init__()
        self.proj = nn.Linear(in_dim, dim)
        self.score = nn.Linear(dim, dim)
        self.register_buffer("mean", torch.zeros(dim))
        self.momentum = momentum

    def forward(self, feats):
        return self.score(F.gelu(self.proj(feats)))

    @torch.no_grad()
    def update_center(self, feats):
        self.mean.mul_(self.momentum).add_((1 - self.momentum) * feats.mean(0))


def train(extractor, head, loader, optimizer, epochs=2):
    extractor.eval()
    head.train()
    history = []
    for _ in range(epochs):
        for (images,) in loader:
            with torch.no_grad():
                feats = extractor(images)
            emb = head(feats)
            head.update_center(emb)
            loss = ((emb - head.mean) ** 2).sum(1).mean() + 1e-3 * emb.pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    return history


def main():
    torch.manual_seed(0)
    extractor, head = FeatureExtractor(), AnomalyHead()
    extractor.requires_grad_(False)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-3, weight_decay=1e-5)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 3, 8, 8, generator=g)), batch_size=8, shuffle=True, generator=g)
    e0, h0 = extractor.layer1.weight.detach().clone(), head.proj.weight.detach().clone()
    train(extractor, head, loader, optimizer)
    facts = {"extractor_changed": not torch.equal(e0, extractor.layer1.weight),
             "head_changed": not torch.equal(h0, head.proj.weight), "center_moved": bool(head.mean.abs().sum() > 0)}
    return {"extractor": extractor, "head": head}, facts

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
