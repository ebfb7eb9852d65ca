import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DenseGraphAttention(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim, bias=False)
        self.att_src = nn.Linear(out_dim, 1, bias=False)
        self.att_dst = nn.Linear(out_dim, 1, bias=False)

    def forward(self, x, adj):
        h = self.proj(x)
        scores = F.leaky_relu(self.att_src(h) + self.att_dst(h).transpose(1, 2), 0.2)
        alpha = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        alpha[adj == 0] = 0.0
        alpha = alpha / alpha.sum(dim=-1, keepdim=True).clamp(min=1e-9)
        return F.elu(alpha @ h)


class MoleculeGAT(nn.Module):
    def __init__(self, in_dim=6, hidden=16, n_tasks=2):
        super().__init__()
        self.gat1 = DenseGraphAttention(in_dim, hidden)
        self.gat2 = DenseGraphAttention(hidden, hidden)
        self.readout = nn.Linear(hidden, n_tasks)

    def forward(self, x, adj):
        h = self.gat2(self.gat1(x, adj), adj)
        return self.readout(h.mean(dim=1))


def make_graphs(n=24, nodes=7):
    g = torch.Generator().manual_seed(22)
    x = torch.randn(n, nodes, 6, generator=g)
    adj = (torch.rand(n, nodes, nodes, generator=g) > 0.6).float()
    adj = ((adj + adj.transpose(1, 2) + torch.eye(nodes)) > 0).float()
    y = torch.randn(n, 2, generator=g)
    return TensorDataset(x, adj, y)


def train(model, loader, optimizer):
    model.train()
    for x, adj, y in loader:
        loss = F.mse_loss(model(x, adj), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = MoleculeGAT()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, DataLoader(make_graphs(), batch_size=8, shuffle=True), optimizer)
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
