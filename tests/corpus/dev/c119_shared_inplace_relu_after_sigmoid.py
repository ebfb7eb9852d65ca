import torch
import torch.nn as nn
import torch.nn.functional as F


class AttentionPooling(nn.Module):
    """Scores each instance, squashes the score, and pools (multiple-instance learning)."""

    def __init__(self, dim, act):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, dim // 2), nn.Tanh(), nn.Linear(dim // 2, 1))
        self.act = act

    def forward(self, h):
        a = torch.sigmoid(self.score(h))
        a = self.act(a)
        return (a * h).sum(dim=1) / a.sum(dim=1).clamp_min(1e-6)


class MILNet(nn.Module):
    def __init__(self, in_dim=12, dim=16, n_classes=2):
        super().__init__()
        act = nn.ReLU(inplace=True)  # one activation object shared by every block
        self.embed = nn.Sequential(nn.Linear(in_dim, dim), act)
        self.pool = AttentionPooling(dim, act)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, bags):
        return self.classifier(self.pool(self.embed(bags)))


def train_step(model, optimizer, bags, labels):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(bags), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = MILNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    bags, labels = torch.randn(8, 5, 12), torch.randint(0, 2, (8,))
    for _ in range(2):
        train_step(model, optimizer, bags, labels)
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
