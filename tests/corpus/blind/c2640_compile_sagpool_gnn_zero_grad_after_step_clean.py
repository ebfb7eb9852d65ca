import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DenseGCNConv(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)

    def forward(self, x, adj):
        a = adj + torch.eye(adj.shape[-1])
        deg = a.sum(-1).clamp(min=1).pow(-0.5)
        a = deg.unsqueeze(-1) * a * deg.unsqueeze(-2)
        return a @ self.lin(x)


class SAGPool(nn.Module):
    """Self-attention graph pooling: keep the top-ratio nodes by a GCN score, gate them with tanh(score)."""

    def __init__(self, dim, ratio=0.5):
        super().__init__()
        self.score_conv = DenseGCNConv(dim, 1)
        self.ratio = ratio

    def forward(self, x, adj):
        score = self.score_conv(x, adj).squeeze(-1)
        k = max(1, int(self.ratio * x.shape[1]))
        top_score, perm = score.topk(k, dim=-1)
        x = torch.gather(x, 1, perm.unsqueeze(-1).expand(-1, -1, x.shape[-1])) * torch.tanh(top_score).unsqueeze(-1)
        adj = torch.gather(torch.gather(adj, 1, perm.unsqueeze(-1).expand(-1, -1, adj.shape[-1])), 2,
                           perm.unsqueeze(1).expand(-1, k, -1))
        return x, adj


class SAGPoolNet(nn.Module):
    def __init__(self, in_dim=5, hidden=16, n_classes=2):
        super().__init__()
        self.conv1 = DenseGCNConv(in_dim, hidden)
        self.pool1 = SAGPool(hidden)
        self.conv2 = DenseGCNConv(hidden, hidden)
        self.lin = nn.Linear(2 * hidden, n_classes)

    def forward(self, x, adj):
        x, adj = self.pool1(F.relu(self.conv1(x, adj)), adj)
        x = F.relu(self.conv2(x, adj))
        return self.lin(torch.cat([x.mean(1), x.max(1).values], dim=-1))


def train(model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, adj, y in loader:
            out = model(x, adj)
            loss = F.cross_entropy(out, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        scheduler.step()


def main():
    torch.manual_seed(0)
    net = SAGPoolNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)
    model = torch.compile(net, backend="eager")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 6, 5, generator=g)
    adj = (torch.rand(8, 6, 6, generator=g) > 0.6).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float()
    y = torch.randint(0, 2, (8,), generator=g)
    score_before = net.pool1.score_conv.lin.weight.detach().clone()
    train(model, DataLoader(TensorDataset(x, adj, y), batch_size=4), optimizer, scheduler)
    out = model(x[:4], adj[:4])
    F.cross_entropy(out, y[:4]).backward()
    return {"net": net}, {"score_conv_changed": not torch.equal(score_before, net.pool1.score_conv.lin.weight)}

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
