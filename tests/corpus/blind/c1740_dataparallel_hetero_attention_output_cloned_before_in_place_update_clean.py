import torch
import torch.nn as nn
import torch.nn.functional as F


class HANLayer(nn.Module):
    """Node-level attention per metapath, then semantic attention across metapaths (HAN)."""

    def __init__(self, in_dim, out_dim, n_metapaths=2):
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim)
        self.att_src = nn.Parameter(torch.randn(n_metapaths, out_dim) * 0.1)
        self.att_dst = nn.Parameter(torch.randn(n_metapaths, out_dim) * 0.1)
        self.semantic = nn.Sequential(nn.Linear(out_dim, 16), nn.Tanh(), nn.Linear(16, 1, bias=False))

    def forward(self, x, adjs):
        h = self.proj(x)
        outs = []
        for m, adj in enumerate(adjs):
            e = F.leaky_relu((h * self.att_src[m]).sum(-1, keepdim=True) + (h * self.att_dst[m]).sum(-1).unsqueeze(0), 0.2)
            e = e.masked_fill(adj == 0, float("-inf"))
            outs.append(F.elu(torch.softmax(e, dim=-1) @ h))
        z = torch.stack(outs, dim=1)  # N x M x D
        beta = torch.softmax(self.semantic(z).mean(0), dim=0)
        return (beta.unsqueeze(0) * z).sum(1)


class HAN(nn.Module):
    def __init__(self, in_dim=10, hidden=16, n_classes=3):
        super().__init__()
        self.han1 = HANLayer(in_dim, hidden)
        self.han2 = HANLayer(hidden, hidden)
        self.classify = nn.Linear(hidden, n_classes)

    def forward(self, x, adjs, train_mask):
        out = self.han1(x, adjs)
        out = out.clone()  # the next line updates rows in place
        out[~train_mask] *= 0.5  # damp unlabeled nodes' features (label-aware smoothing)
        out = self.han2(out, adjs)
        return self.classify(out)


def make_graph(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    adjs = [((torch.rand(n, n, generator=g) > 0.7).float() + torch.eye(n)).clamp(max=1) for _ in range(2)]
    y = torch.randint(0, 3, (n,), generator=g)
    train_mask = torch.rand(n, generator=g) > 0.4
    return x, adjs, y, train_mask


def main():
    torch.manual_seed(0)
    x, adjs, y, train_mask = make_graph()
    net = HAN()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=1e-3)
    w0 = net.han1.proj.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        logits = model(x, adjs, train_mask)
        loss = F.cross_entropy(logits[train_mask], y[train_mask])
        loss.backward()
        optimizer.step()
    return {"model": net}, {"han1_changed": not torch.equal(w0, net.han1.proj.weight)}

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
