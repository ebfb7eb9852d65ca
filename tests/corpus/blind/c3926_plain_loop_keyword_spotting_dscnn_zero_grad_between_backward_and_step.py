import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DSCNN(nn.Module):
    def __init__(self, n_mels=10, ch=16, n_keywords=4):
        super().__init__()
        self.stem = nn.Conv2d(1, ch, 3, padding=1)
        self.depthwise = nn.Conv2d(ch, ch, 3, padding=1, groups=ch)
        self.pointwise = nn.Conv2d(ch, ch, 1)
        self.classifier = nn.Linear(ch, n_keywords)

    def forward(self, x):
        h = F.relu(self.stem(x))
        h = F.relu(self.pointwise(F.relu(self.depthwise(h))))
        return self.classifier(h.mean(dim=(2, 3)))


def make_loader(n=48):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 4
    x = 0.3 * torch.randn(n, 1, 10, 12, generator=g)
    for i in range(n):
        x[i, 0, 2 * int(y[i]):2 * int(y[i]) + 2] += 1.0
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = DSCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    loader = make_loader()
    stem0 = model.stem.weight.detach().clone()
    for epoch in range(3):
        model.train()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
        scheduler.step()
    return {"model": model}, {"stem_changed": not torch.equal(stem0, model.stem.weight)}

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
