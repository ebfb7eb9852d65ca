import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class WeightedGCNConv(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)

    def forward(self, x, edge_index, edge_weight):
        src, dst = edge_index
        deg = torch.zeros(x.shape[0]).index_add(0, dst, edge_weight) + 1
        norm = edge_weight / deg[dst]
        h = self.lin(x)
        return h + torch.zeros_like(h).index_add(0, dst, norm[:, None] * h[src])


class LearnedAdjacencyGCN(nn.Module):
    """GCN over a fixed edge list whose edge strengths are learned (sigmoid of per-edge logits)."""

    def __init__(self, n_edges, in_dim=6, hid=16, n_cls=3):
        super().__init__()
        self.register_buffer("edge_logits", torch.zeros(n_edges, requires_grad=True))
        self.conv1 = WeightedGCNConv(in_dim, hid)
        self.conv2 = WeightedGCNConv(hid, n_cls)

    def forward(self, x, edge_index):
        w = torch.sigmoid(self.edge_logits)
        return self.conv2(F.relu(self.conv1(x, edge_index, w)), edge_index, w)


def make_graph(n=24, e=80):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, 6, generator=g), torch.randint(0, n, (2, e), generator=g), torch.randint(0, 3, (n,), generator=g),
            torch.rand(n, generator=g) < 0.7)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    x, edge_index, y, train_mask = make_graph()
    model = LearnedAdjacencyGCN(edge_index.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
    model, optimizer = fabric.setup(model, optimizer)
    for epoch in range(20):
        out = model(x, edge_index)
        loss = F.cross_entropy(out[train_mask], y[train_mask])
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        scheduler.step()
    logits = model.module.edge_logits
    facts = {"edge_logits_changed": bool(logits.abs().sum() > 0),
             "edge_logits_in_parameters": any(p is logits for p in model.parameters())}
    return {"model": model.module, "edge_logits": logits}, facts

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
