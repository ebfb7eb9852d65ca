import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class SVDDNet(nn.Module):
    def __init__(self, in_dim=12, rep_dim=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 16, bias=False), nn.LeakyReLU(), nn.Linear(16, rep_dim, bias=False))

    def forward(self, x):
        return self.net(x)


@torch.no_grad()
def init_center(net, loader, eps=0.1):
    c, n = torch.zeros(net.net[-1].out_features), 0
    for (x,) in loader:
        z = net(x)
        c += z.sum(0)
        n += z.size(0)
    c /= n
    c[(c.abs() < eps) & (c < 0)] = -eps
    c[(c.abs() < eps) & (c >= 0)] = eps
    return c


def train_one_epoch(net, loader, optimizer, c):
    total = 0.0
    for (x,) in loader:
        dist = ((net(x) - c) ** 2).sum(1)
        loss = dist.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(64, 12, generator=g) * 0.5 + 1.0), batch_size=16, shuffle=True, generator=g)
    net = SVDDNet()
    c = init_center(net, loader)
    c0 = c.clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-6)
    w0 = net.net[0].weight.detach().clone()
    losses = [train_one_epoch(net, loader, optimizer, c) for _ in range(3)]
    return {"net": net}, {
        "net_changed": not torch.equal(w0, net.net[0].weight),
        "center_fixed": torch.equal(c0, c),
        "loss_decreased": losses[-1] < losses[0],
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
