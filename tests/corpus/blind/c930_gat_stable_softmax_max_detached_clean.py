import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GATLayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.W = nn.Linear(d_in, d_out, bias=False)
        self.a_src = nn.Parameter(torch.randn(d_out) * 0.1)
        self.a_dst = nn.Parameter(torch.randn(d_out) * 0.1)
        self.last_attention = None

    def forward(self, x, adj):
        h = self.W(x)
        e = F.leaky_relu((h @ self.a_src)[:, None] + (h @ self.a_dst)[None, :], 0.2)
        e = e.masked_fill(adj == 0, float("-inf"))
        e = e - e.max(dim=-1, keepdim=True).values.detach()
        alpha = torch.softmax(e, dim=-1)
        self.last_attention = alpha.detach()
        return alpha @ h


class GAT(nn.Module):
    def __init__(self, d_in=8, hidden=16, n_classes=3):
        super().__init__()
        self.gat1 = GATLayer(d_in, hidden)
        self.gat2 = GATLayer(hidden, n_classes)

    def forward(self, x, adj):
        return self.gat2(F.elu(self.gat1(x, adj)), adj)


def build_graph(n=30, n_edges=80, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    adj = torch.eye(n)
    src, dst = torch.randint(0, n, (2, n_edges), generator=g)
    adj[src, dst] = 1.0
    adj[dst, src] = 1.0
    return x, adj, x[:, :3].argmax(-1)


def train(model, x, adj, labels, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for (idx,) in loader:
            loss = F.cross_entropy(model(x, adj)[idx], labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x, adj, labels = build_graph()
    loader = DataLoader(TensorDataset(torch.arange(len(x))), batch_size=10, shuffle=True)
    model = GAT()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=5e-4)
    train(model, x, adj, labels, loader, optimizer)
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
