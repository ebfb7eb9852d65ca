import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"in_dim": 20, "rep_dim": 8, "lr": 1e-3, "weight_decay": 1e-6, "epochs": 3, "batch": 16, "eps": 0.1,
       "lr_milestones": (2,), "objective": "one-class"}


class MLPEncoder(nn.Module):
    """Deep SVDD network: bias-free layers so the trivial all-zero mapping is not available."""

    def __init__(self, in_dim, rep_dim):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, 32, bias=False)
        self.bn1 = nn.BatchNorm1d(32, eps=1e-4, affine=False)
        self.fc2 = nn.Linear(32, 16, bias=False)
        self.bn2 = nn.BatchNorm1d(16, eps=1e-4, affine=False)
        self.fc3 = nn.Linear(16, rep_dim, bias=False)

    def forward(self, x):
        x = F.leaky_relu(self.bn1(self.fc1(x)))
        x = F.leaky_relu(self.bn2(self.fc2(x)))
        return self.fc3(x)


def batches(x, size):
    for i in range(0, len(x), size):
        yield x[i : i + size]


def init_center_c(net, data, cfg):
    """Initialize the hypersphere center c as the mean of an initial forward pass over the data."""
    n_samples, c = 0, torch.zeros(cfg["rep_dim"])
    net.eval()
    for x in batches(data, cfg["batch"]):
        outputs = net(x)
        n_samples += outputs.shape[0]
        c = c + outputs.sum(dim=0)
    c = c / n_samples
    # if c_i is too close to 0, set to +-eps (a zero unit can be trivially matched with zero weights)
    c = torch.where((c.abs() < cfg["eps"]) & (c < 0), torch.full_like(c, -cfg["eps"]), c)
    c = torch.where((c.abs() < cfg["eps"]) & (c >= 0), torch.full_like(c, cfg["eps"]), c)
    return c


def train_deep_svdd(net, data, cfg):
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(cfg["lr_milestones"]), gamma=0.1)
    c = init_center_c(net, data, cfg)
    net.train()
    history = []
    for epoch in range(cfg["epochs"]):
        epoch_loss = 0.0
        for x in batches(data[torch.randperm(len(data))], cfg["batch"]):
            outputs = net(x)
            dist = torch.sum((outputs - c) ** 2, dim=1)
            loss = torch.mean(dist)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        scheduler.step()
        history.append(epoch_loss)
    return c, history


@torch.no_grad()
def anomaly_scores(net, c, x):
    net.eval()
    return torch.sum((net(x) - c) ** 2, dim=1)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    normal = torch.randn(64, CFG["in_dim"], generator=g) * 0.5 + 1.0
    anomalies = torch.randn(8, CFG["in_dim"], generator=g) * 2.0
    net = MLPEncoder(CFG["in_dim"], CFG["rep_dim"])
    c, history = train_deep_svdd(net, normal, CFG)
    scores = anomaly_scores(net, c, torch.cat([normal[:8], anomalies]))
    return {"net": net}, {"anomalies_score_higher": bool(scores[8:].mean() > scores[:8].mean())}

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
