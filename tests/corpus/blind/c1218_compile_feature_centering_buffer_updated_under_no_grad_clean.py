import torch
import torch.nn as nn
import torch.nn.functional as F


class Centering(nn.Module):
    def __init__(self, dim, momentum=0.9):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("running_mean", torch.zeros(dim))

    def forward(self, h):
        out = h - self.running_mean
        if self.training:
            with torch.no_grad():
                self.running_mean.mul_(self.momentum).add_(h.detach().mean(0), alpha=1 - self.momentum)
        return out


class CenteredClassifier(nn.Module):
    def __init__(self, in_dim=12, dim=16, n_classes=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.center = Centering(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.head(self.center(self.encoder(x)))


def train(model, compiled, batches, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(compiled(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = CenteredClassifier()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(16, 12, generator=g) + 2.0, torch.randint(0, 3, (16,), generator=g)) for _ in range(4)]
    w0 = model.encoder[0].weight.detach().clone()
    train(model, compiled, batches, optimizer)
    facts = {
        "encoder_changed": not torch.equal(w0, model.encoder[0].weight),
        "running_mean_changed": bool(model.center.running_mean.abs().sum() > 0),
        "running_mean_requires_grad": model.center.running_mean.requires_grad,
    }
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
