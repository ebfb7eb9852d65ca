import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


def normalize_adj(adj):
    adj = adj + torch.eye(adj.shape[-1])
    d = adj.sum(-1).rsqrt()
    return d[..., :, None] * adj * d[..., None, :]


class DenseGCN(nn.Module):
    def __init__(self, in_dim=8, hidden=32, out_dim=16):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(in_dim, hidden), nn.Linear(hidden, hidden)
        self.proj = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x, adj):
        a = normalize_adj(adj)
        h = F.relu(a @ self.lin1(x))
        h = F.relu(a @ self.lin2(h))
        return F.normalize(self.proj(h.mean(dim=1)), dim=-1)


def augment(x, adj, p_edge=0.2, p_feat=0.2):
    keep = (torch.rand_like(adj) > p_edge).float()
    keep = torch.triu(keep, 1)
    keep = keep + keep.transpose(-1, -2)
    mask = (torch.rand(x.shape[-1]) > p_feat).float()
    return x * mask, adj * keep


class NegativeQueue:
    def __init__(self, dim=16, size=64):
        self.size = size
        self.keys = F.normalize(torch.randn(size, dim), dim=-1)

    def push(self, keys):
        self.keys = torch.cat([keys, self.keys], dim=0)[: self.size]


def info_nce(q, k, queue, tau=0.2):
    pos = (q * k).sum(-1, keepdim=True)
    neg = q @ queue.T
    logits = torch.cat([pos, neg], dim=1) / tau
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def pretrain(fabric, encoder, optimizer, graphs, queue, epochs=2, batch=8):
    x_all, adj_all = graphs
    for epoch in range(epochs):
        for i in range(0, x_all.shape[0], batch):
            x, adj = x_all[i:i + batch], adj_all[i:i + batch]
            q = encoder(*augment(x, adj))
            k = encoder(*augment(x, adj))
            loss = info_nce(q, k, queue.keys)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            queue.push(k)


def random_graphs(n=24, nodes=10, feat=8):
    g = torch.Generator().manual_seed(0)
    adj = (torch.rand(n, nodes, nodes, generator=g) > 0.7).float()
    adj = torch.triu(adj, 1)
    return torch.randn(n, nodes, feat, generator=g), adj + adj.transpose(-1, -2)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    encoder = DenseGCN()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    encoder, optimizer = fabric.setup(encoder, optimizer)
    pretrain(fabric, encoder, optimizer, random_graphs(), NegativeQueue())
    return {"encoder": encoder}

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
