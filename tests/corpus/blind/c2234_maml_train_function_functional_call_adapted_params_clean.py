import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


class ConvClassifier(nn.Module):
    def __init__(self, n_way=3, hidden=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, hidden, 3, padding=1), nn.BatchNorm2d(hidden, track_running_stats=False),
                                      nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Linear(hidden * 4 * 4, n_way)

    def forward(self, x):
        return self.classifier(self.features(x))


def gradient_update_parameters(model, loss, params=None, step_size=0.4, first_order=False):
    if params is None:
        params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
    return {name: p - step_size * g for (name, p), g in zip(params.items(), grads)}


def make_task(n_way=3, shots=2, queries=3):
    protos = torch.randn(n_way, 1, 8, 8)
    xs = protos.repeat_interleave(shots, 0) + 0.3 * torch.randn(n_way * shots, 1, 8, 8)
    xq = protos.repeat_interleave(queries, 0) + 0.3 * torch.randn(n_way * queries, 1, 8, 8)
    return xs, torch.arange(n_way).repeat_interleave(shots), xq, torch.arange(n_way).repeat_interleave(queries)


def meta_train(model, meta_optimizer, tasks_per_batch=4, batches=3, inner_steps=1):
    accs = []
    for _ in range(batches):
        meta_optimizer.zero_grad()
        outer_loss = torch.tensor(0.0)
        for _ in range(tasks_per_batch):
            xs, ys, xq, yq = make_task()
            params = None
            for _ in range(inner_steps):
                inner_logits = functional_call(model, params, (xs,)) if params else model(xs)
                params = gradient_update_parameters(model, F.cross_entropy(inner_logits, ys), params)
            test_logits = functional_call(model, params, (xq,))
            outer_loss = outer_loss + F.cross_entropy(test_logits, yq)
            with torch.no_grad():
                accs.append((test_logits.argmax(1) == yq).float().mean().item())
        (outer_loss / tasks_per_batch).backward()
        meta_optimizer.step()
    return accs


def main():
    torch.manual_seed(0)
    model = ConvClassifier()
    meta_optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.features[0].weight.detach().clone()
    accs = meta_train(model, meta_optimizer)
    return ({"model": model}, {"meta_changed": not torch.equal(w0, model.features[0].weight), "tasks": len(accs)})

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
