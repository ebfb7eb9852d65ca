import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class ActivityClassifier(nn.Module):
    def __init__(self, in_dim=18, hidden=32, n_classes=5):
        super().__init__()
        self.n_classes = n_classes
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        h = self.dropout(self.encoder(x))
        self.classifier = nn.Linear(h.size(-1), self.n_classes)
        return self.classifier(h)


def train(fabric, model, optimizer, batches, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = ActivityClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(16, 18, generator=g), torch.randint(0, 5, (16,), generator=g)) for _ in range(4)]
    train(fabric, model, optimizer, batches)
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    in_optimizer = any(id(p) in held for p in model.module.classifier.parameters())
    model.eval()
    with torch.no_grad():
        probe = batches[0][0]
        repeatable = torch.equal(model(probe), model(probe))
    facts = {"classifier_in_optimizer": in_optimizer, "eval_outputs_repeatable": repeatable}
    return {"model": model.module}, facts

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
