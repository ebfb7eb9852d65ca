import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.func import functional_call


class ConvLearner(nn.Module):
    def __init__(self, n_way=3, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                      nn.Flatten())
        self.classifier = nn.Linear(width, n_way)

    def forward(self, x):
        return self.classifier(self.features(x))


def sample_task(g, n_way=3, k_shot=2, k_query=3):
    protos = torch.rand(n_way, 1, 8, 8, generator=g)
    def draw(k):
        x = protos.repeat_interleave(k, 0) + 0.1 * torch.randn(n_way * k, 1, 8, 8, generator=g)
        return x, torch.arange(n_way).repeat_interleave(k)
    return draw(k_shot) + draw(k_query)


class MetaLearner:
    def __init__(self, model, inner_lr=0.4, inner_steps=2):
        self.model, self.inner_lr, self.inner_steps = model, inner_lr, inner_steps

    def adapt(self, xs, ys):
        params = dict(self.model.named_parameters())
        for _ in range(self.inner_steps):
            loss = F.cross_entropy(functional_call(self.model, params, (xs,)), ys)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            params = {n: p - self.inner_lr * g for (n, p), g in zip(params.items(), grads)}
        return params

    def meta_loss(self, tasks):
        total = 0.0
        for xs, ys, xq, yq in tasks:
            fast = self.adapt(xs, ys)
            total = total + F.cross_entropy(functional_call(self.model, fast, (xq,)), yq)
        return total / len(tasks)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ConvLearner()
    meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, meta_opt = fabric.setup(model, meta_opt)
    learner = MetaLearner(model.module)
    before = model.module.features[0].weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    history = []
    for _ in range(3):
        tasks = [sample_task(g) for _ in range(2)]
        loss = learner.meta_loss(tasks)
        meta_opt.zero_grad()
        fabric.backward(loss)
        meta_opt.step()
        history.append(loss.detach().item())
    changed = not torch.equal(before, model.module.features[0].weight)
    return {"learner": model.module}, {"meta_params_changed": changed}

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
