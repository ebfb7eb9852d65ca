import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"d_in": 12, "hidden": 32, "lr": 3e-3, "epochs": 3, "bs": 16}


class SceneNet(nn.Module):
    """Shared encoder with depth (regression) and semantic (classification) heads."""

    def __init__(self, d_in, h, n_classes=5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.depth = nn.Linear(h, 1)
        self.semantic = nn.Linear(h, n_classes)

    def forward(self, x):
        z = self.encoder(x)
        return self.depth(z).squeeze(-1), self.semantic(z)


class UncertaintyWeighting(nn.Module):
    """Kendall et al. 2018: L = sum_i exp(-s_i) * L_i + s_i with learned log-variances s_i."""

    def __init__(self, n_tasks):
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(n_tasks))

    def forward(self, losses):
        precision = torch.exp(-self.log_vars)
        return (precision * losses + self.log_vars).sum()

    def weights(self):
        return torch.exp(-self.log_vars.detach()).tolist()


def build_optimizer(model, weighting, cfg):
    return torch.optim.Adam([{"params": model.parameters()},
                             {"params": weighting.parameters(), "weight_decay": 0.0}], lr=cfg["lr"])


def nyu_like(n=64, d=12):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    return x, 4 * x[:, 0] + x[:, 1], x[:, 2:7].argmax(-1)


def train_one_epoch(model, weighting, optimizer, data, bs, log):
    x_all, depth_all, sem_all = data
    for i in range(0, len(x_all), bs):
        depth, logits = model(x_all[i:i + bs])
        losses = torch.stack([F.l1_loss(depth, depth_all[i:i + bs]), F.cross_entropy(logits, sem_all[i:i + bs])])
        loss = weighting(losses)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "task_losses": losses.detach().tolist(), "weights": weighting.weights()})


def main():
    torch.manual_seed(0)
    model, weighting = SceneNet(CFG["d_in"], CFG["hidden"]), UncertaintyWeighting(2)
    optimizer = build_optimizer(model, weighting, CFG)
    lv0 = weighting.log_vars.detach().clone()
    log = []
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, weighting, optimizer, nyu_like(), CFG["bs"], log)
    return {"model": model, "weighting": weighting}, {
        "log_vars_changed": not torch.equal(lv0, weighting.log_vars.detach()),
        "logged_steps": len(log),
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
