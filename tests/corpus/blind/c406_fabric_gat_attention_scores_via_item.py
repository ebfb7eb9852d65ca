import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class DenseGATLayer(nn.Module):
    """Single-head graph attention over an explicit edge list (written by hand, no PyG)."""

    def __init__(self, in_dim, out_dim, slope=0.2):
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim, bias=False)
        self.att_src = nn.Parameter(torch.randn(out_dim) * 0.1)
        self.att_dst = nn.Parameter(torch.randn(out_dim) * 0.1)
        self.slope = slope

    def attention(self, h, edges):
        n = h.size(0)
        scores = [[-1e9] * n for _ in range(n)]
        src_term = h @ self.att_src
        dst_term = h @ self.att_dst
        for i, j in edges:
            scores[i][j] = F.leaky_relu(src_term[i] + dst_term[j], self.slope).item()
        return torch.softmax(torch.tensor(scores), dim=1)

    def forward(self, h, edges):
        h = self.proj(h)
        return self.attention(h, edges) @ h


class GAT(nn.Module):
    def __init__(self, in_dim=8, hidden=16, n_classes=3):
        super().__init__()
        self.layer1 = DenseGATLayer(in_dim, hidden)
        self.layer2 = DenseGATLayer(hidden, n_classes)

    def forward(self, x, edges):
        return self.layer2(F.elu(self.layer1(x, edges)), edges)


def make_graph(n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    labels = torch.randint(0, 3, (n,), generator=g)
    edges = [(i, i) for i in range(n)]
    edges += [(i, (i + 1) % n) for i in range(n)] + [((i + 1) % n, i) for i in range(n)]
    return x, labels, edges


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = GAT()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=5e-4)
    model, optimizer = fabric.setup(model, optimizer)
    x, labels, edges = make_graph()
    train_mask = torch.arange(12) < 8
    for epoch in range(5):
        optimizer.zero_grad()
        logits = model(x, edges)
        loss = F.cross_entropy(logits[train_mask], labels[train_mask])
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
