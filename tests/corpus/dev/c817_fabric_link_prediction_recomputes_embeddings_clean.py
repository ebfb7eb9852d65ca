import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


@torch.no_grad()
def gcn_norm(edge_index, n):
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1.0
    a = ((a + a.t()) > 0).float()
    a.fill_diagonal_(1.0)
    deg_inv_sqrt = a.sum(1).pow(-0.5)
    return deg_inv_sqrt[:, None] * a * deg_inv_sqrt[None, :]


class GraphConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x, adj):
        return adj @ self.lin(x) + self.bias


class GAE(nn.Module):
    def __init__(self, d_in=8, hidden=16, d_out=8):
        super().__init__()
        self.conv1 = GraphConv(d_in, hidden)
        self.conv2 = GraphConv(hidden, d_out)

    def encode(self, x, adj):
        return self.conv2(F.relu(self.conv1(x, adj)), adj)

    def decode(self, z, pairs):
        return (z[pairs[:, 0]] * z[pairs[:, 1]]).sum(-1)


def auc_score(scores, labels):
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels == 1
    return (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


def train_epoch(fabric, model, optimizer, x, adj, edge_loader, n_nodes, g):
    model.train()
    aucs = []
    for (pos,) in edge_loader:
        z = model.encode(x, adj)
        neg = torch.randint(0, n_nodes, pos.shape, generator=g)
        logits = torch.cat([model.decode(z, pos), model.decode(z, neg)])
        labels = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))])
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        aucs.append(auc_score(logits.detach().cpu().numpy(), labels.numpy()))
    return float(np.mean(aucs))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    n_nodes = 30
    x = torch.randn(n_nodes, 8, generator=g)
    edge_index = torch.randint(0, n_nodes, (2, 80), generator=g)
    adj = gcn_norm(edge_index, n_nodes)
    edge_loader = DataLoader(TensorDataset(edge_index.t()), batch_size=20, shuffle=True, generator=g)
    model = GAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model, optimizer = fabric.setup(model, optimizer)
    for _ in range(2):
        train_epoch(fabric, model, optimizer, x, adj, edge_loader, n_nodes, g)
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
