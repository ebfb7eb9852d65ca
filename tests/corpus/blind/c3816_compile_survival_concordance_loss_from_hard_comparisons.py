import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class RiskNet(nn.Module):
    def __init__(self, n_features=8, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def concordance_loss(risk, time, event):
    """1 - Harrell's C-index over the comparable pairs of the batch (i had the event before j's time)."""
    comparable = (time[:, None] < time[None, :]) & (event[:, None] > 0)
    concordant = (risk[:, None] > risk[None, :]).float()
    c_index = (concordant * comparable).sum() / comparable.sum().clamp(min=1)
    return 1.0 - c_index


def cox_nll(risk, time, event):
    order = torch.argsort(time, descending=True)
    r, e = risk[order], event[order]
    return -((r - torch.logcumsumexp(r, dim=0)) * e).sum() / e.sum().clamp(min=1.0)


def make_cohort(n=96, d=8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    hazard = torch.exp(0.9 * x[:, 0] - 0.6 * x[:, 2])
    time = -torch.log(torch.rand(n, generator=g)) / hazard
    censor = -torch.log(torch.rand(n, generator=g)) / 0.3
    event = (time <= censor).float()
    return TensorDataset(x, torch.minimum(time, censor), event)


def train(model, loader, optimizer, scheduler, epochs=3, rank_weight=1.0):
    model.train()
    rank_in_graph = []
    for _ in range(epochs):
        for x, time, event in loader:
            risk = model(x)
            rank_term = concordance_loss(risk, time, event)
            loss = cox_nll(risk, time, event) + rank_weight * rank_term
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            rank_in_graph.append(rank_term.requires_grad)
    return rank_in_graph


def main():
    torch.manual_seed(0)
    net = RiskNet()
    model = torch.compile(net, backend="eager")
    loader = DataLoader(make_cohort(), batch_size=32, shuffle=True, drop_last=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=3 * len(loader))
    w0 = net.net[0].weight.detach().clone()
    rank_in_graph = train(model, loader, optimizer, scheduler)
    return {"net": net}, {
        "ranking_term_in_graph": all(rank_in_graph),
        "risk_net_changed": not torch.equal(w0, net.net[0].weight),
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
