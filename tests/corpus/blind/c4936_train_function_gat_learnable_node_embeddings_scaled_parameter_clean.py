import torch
import torch.nn as nn
import torch.nn.functional as F


class NodeEmbeddingGAT(nn.Module):
    def __init__(self, n_nodes, dim, n_classes):
        super().__init__()
        self.node_emb = nn.Parameter(torch.randn(n_nodes, dim) * 0.1)
        self.W = nn.Linear(dim, dim, bias=False)
        self.att = nn.Parameter(torch.randn(2 * dim) * 0.1)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, adj):
        wh = self.W(self.node_emb)
        d = wh.shape[1]
        e = F.leaky_relu((wh @ self.att[:d])[:, None] + (wh @ self.att[d:])[None, :], 0.2)
        alpha = torch.softmax(e.masked_fill(adj == 0, float("-inf")), dim=-1)
        return self.head(F.elu(alpha @ wh))


def train(model, adj, y, mask, temperature, optimizer, epochs=5):
    for _ in range(epochs):
        logits = model(adj) / temperature.exp()
        loss = F.cross_entropy(logits[mask], y[mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 20
    adj = (torch.rand(n, n, generator=g) < 0.25).float()
    adj = ((adj + adj.t() + torch.eye(n)) > 0).float()
    y, mask = torch.randint(0, 3, (n,), generator=g), torch.rand(n, generator=g) < 0.7
    model = NodeEmbeddingGAT(n, 8, 3)
    temperature = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.Adam(list(model.parameters()) + [temperature], lr=0.01)
    train(model, adj, y, mask, temperature, optimizer)
    return {"model": model, "temperature": temperature}

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
