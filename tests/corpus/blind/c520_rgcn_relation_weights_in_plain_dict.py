import torch
import torch.nn as nn
import torch.nn.functional as F


class RGCNLayer(nn.Module):
    """Relational GCN layer: one weight matrix per edge type plus a self-loop weight."""

    def __init__(self, in_dim, out_dim, relations):
        super().__init__()
        self.self_loop = nn.Linear(in_dim, out_dim)
        self.rel_weight = {r: nn.init.xavier_uniform_(torch.empty(in_dim, out_dim)).requires_grad_() for r in relations}

    def forward(self, x, edges):
        out = self.self_loop(x)
        for rel, (src, dst) in edges.items():
            msg = x[src] @ self.rel_weight[rel]
            deg = torch.zeros(x.shape[0]).index_add_(0, dst, torch.ones(dst.shape[0])).clamp(min=1)
            out = out + torch.zeros_like(out).index_add_(0, dst, msg) / deg[:, None]
        return out


class RGCN(nn.Module):
    def __init__(self, in_dim=8, hidden=16, n_classes=3, relations=("cites", "authored_by")):
        super().__init__()
        self.l1 = RGCNLayer(in_dim, hidden, relations)
        self.l2 = RGCNLayer(hidden, n_classes, relations)

    def forward(self, x, edges):
        return self.l2(F.relu(self.l1(x, edges)), edges)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 40
    x = torch.randn(n, 8, generator=g)
    edges = {r: torch.randint(0, n, (2, 80), generator=g) for r in ("cites", "authored_by")}
    y = torch.randint(0, 3, (n,), generator=g)
    model = RGCN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.l1.rel_weight["cites"].detach().clone()
    for _ in range(10):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, edges), y)
        loss.backward()
        optimizer.step()
    return ({"model": model, "cites_weight": model.l1.rel_weight["cites"]},
            {"relation_weights_changed": not torch.equal(before, model.l1.rel_weight["cites"]),
             "relation_weights_in_parameters": any(p is model.l1.rel_weight["cites"] for p in model.parameters())})

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
