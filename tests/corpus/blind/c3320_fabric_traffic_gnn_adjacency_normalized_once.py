import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

N_NODES = 8


def road_graph():
    adj = torch.zeros(N_NODES, N_NODES)
    for i in range(N_NODES - 1):
        adj[i, i + 1] = adj[i + 1, i] = 1.0
    adj[0, N_NODES - 1] = adj[N_NODES - 1, 0] = 1.0
    return adj


class AdaptiveGraphForecaster(nn.Module):
    """Traffic-speed forecaster with learnable edge weights on a fixed road graph (GCN + GRU)."""

    def __init__(self, adj, hidden=16, horizon=3):
        super().__init__()
        self.register_buffer("mask", adj)
        self.edge_logits = nn.Parameter(torch.zeros(N_NODES, N_NODES))
        self.gcn = nn.Linear(1, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, horizon)
        self.norm_adj = self.normalized_adjacency()

    def normalized_adjacency(self):
        w = torch.sigmoid(self.edge_logits) * self.mask + torch.eye(N_NODES)
        d = w.sum(-1).rsqrt()
        return d[:, None] * w * d[None, :]

    def forward(self, speeds):
        b, t, n = speeds.shape
        h = F.relu(self.gcn(torch.einsum("ij,btj->bti", self.norm_adj, speeds).unsqueeze(-1)))
        h = h.permute(0, 2, 1, 3).reshape(b * n, t, -1)
        _, last = self.gru(h)
        return self.out(last[-1]).view(b, n, -1).transpose(1, 2)


def speed_windows(n=40, lookback=10, horizon=3):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(n + lookback + horizon).float()
    base = 60 + 10 * torch.sin(t[:, None] / 5 + torch.arange(N_NODES)[None] * 0.4)
    series = (base + torch.randn(base.shape, generator=g)) / 60
    x = torch.stack([series[i:i + lookback] for i in range(n)])
    y = torch.stack([series[i + lookback:i + lookback + horizon] for i in range(n)])
    return TensorDataset(x, y)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = AdaptiveGraphForecaster(road_graph())
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(speed_windows(), batch_size=10, shuffle=True))
    for epoch in range(2):
        for x, y in loader:
            loss = F.l1_loss(model(x), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": net}

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
