import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GraphConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.self_loop = nn.Linear(d_in, d_out, bias=False)

    def forward(self, x, adj):
        deg = adj.sum(-1, keepdim=True).clamp_min(1.0)
        return self.lin(adj @ x / deg) + self.self_loop(x)


class GraphClassifier(nn.Module):
    def __init__(self, d_in=8, hidden=32, n_layers=3, n_classes=3, readout="mean"):
        super().__init__()
        self.input_proj = nn.Linear(d_in, hidden)
        self.convs = [GraphConv(hidden, hidden) for _ in range(n_layers)]
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(n_layers))
        self.readout = readout
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x, adj):
        h = F.relu(self.input_proj(x))
        for conv, norm in zip(self.convs, self.norms):
            h = norm(h + F.relu(conv(h, adj)))
        g = h.mean(1) if self.readout == "mean" else h.max(1).values
        return self.head(g)


def random_graphs(n=48, nodes=10, d_in=8):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, nodes, d_in, generator=g)
    adj = (torch.rand(n, nodes, nodes, generator=g) > 0.7).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float()
    y = (adj.sum((1, 2)) / nodes).long().clamp(0, 2)
    return TensorDataset(x, adj, y)


def train(fabric, model, optimizer, sched, loader, epochs=2):
    for epoch in range(epochs):
        model.train()
        for x, adj, y in loader:
            loss = F.cross_entropy(model(x, adj), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        sched.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = GraphClassifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(random_graphs(), batch_size=16, shuffle=True))
    conv0 = net.convs[0].lin.weight.detach().clone()
    head0 = net.head[0].weight.detach().clone()
    train(fabric, model, optimizer, sched, loader)
    facts = {"conv_changed": not torch.equal(conv0, net.convs[0].lin.weight),
             "head_changed": not torch.equal(head0, net.head[0].weight)}
    return {"model": net, "conv0": net.convs[0]}, facts

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
