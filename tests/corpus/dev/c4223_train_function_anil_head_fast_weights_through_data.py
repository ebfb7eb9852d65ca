import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Body(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class ANILRegressor(nn.Module):
    """Meta-learned body shared across tasks; only the linear head is adapted per task (ANIL)."""

    def __init__(self, hidden=32):
        super().__init__()
        self.body = Body(hidden)
        self.head_w = nn.Parameter(torch.zeros(1, hidden))
        self.head_b = nn.Parameter(torch.zeros(1))

    def head(self, feats, w, b):
        return feats @ w.t() + b


def sample_sine_tasks(n_tasks, k_shot, generator):
    tasks = []
    for _ in range(n_tasks):
        amp = 0.1 + 4.9 * torch.rand(1, generator=generator)
        phase = math.pi * torch.rand(1, generator=generator)
        x = 10 * torch.rand(2 * k_shot, 1, generator=generator) - 5
        y = amp * torch.sin(x + phase)
        tasks.append((x[:k_shot], y[:k_shot], x[k_shot:], y[k_shot:]))
    return tasks


def inner_adapt(model, feats, y, cfg):
    w, b = model.head_w, model.head_b
    for _ in range(cfg["inner_steps"]):
        loss = F.mse_loss(model.head(feats, w, b), y)
        gw, gb = torch.autograd.grad(loss, (w, b), create_graph=not cfg["first_order"])
        w, b = w.data - cfg["inner_lr"] * gw, b.data - cfg["inner_lr"] * gb
    return w, b


def meta_train_step(model, tasks, meta_opt, cfg):
    meta_loss = 0.0
    for xs, ys, xq, yq in tasks:
        w, b = inner_adapt(model, model.body(xs), ys, cfg)
        meta_loss = meta_loss + F.mse_loss(model.head(model.body(xq), w, b), yq)
    meta_loss = meta_loss / len(tasks)
    meta_opt.zero_grad()
    meta_loss.backward()
    meta_opt.step()
    return meta_loss.item()


def train(model, cfg):
    g = torch.Generator().manual_seed(0)
    meta_opt = torch.optim.Adam(model.parameters(), lr=cfg["meta_lr"])
    losses = []
    for _ in range(cfg["meta_iters"]):
        losses.append(meta_train_step(model, sample_sine_tasks(cfg["meta_batch"], cfg["k_shot"], g), meta_opt, cfg))
    return losses


def main():
    torch.manual_seed(0)
    cfg = {"inner_steps": 1, "inner_lr": 0.01, "first_order": True, "meta_lr": 1e-3,
           "meta_iters": 6, "meta_batch": 4, "k_shot": 5}
    model = ANILRegressor()
    head0 = model.head_w.detach().clone()
    body0 = model.body.net[0].weight.detach().clone()
    losses = train(model, cfg)
    return {"model": model}, {
        "head_init_changed": not torch.equal(head0, model.head_w),
        "body_changed": not torch.equal(body0, model.body.net[0].weight),
        "meta_losses_finite": all(math.isfinite(v) for v in losses),
    }

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
