import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DenseGCNLayer(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)

    def forward(self, x, adj):
        adj = adj + torch.eye(adj.size(-1))
        deg = adj.sum(-1, keepdim=True)
        return F.relu((adj / deg) @ self.lin(x))


class NodeScorePool(nn.Module):
    """Keeps the top-k nodes of each graph ranked by a learned score (SAGPool / TopKPooling style)."""

    def __init__(self, dim, ratio=0.5):
        super().__init__()
        self.scorer = nn.Linear(dim, 1)
        self.ratio = ratio

    def forward(self, x, adj):
        score = self.scorer(x).squeeze(-1)
        k = max(1, int(self.ratio * x.size(1)))
        perm = score.topk(k, dim=1).indices
        x = torch.gather(x, 1, perm.unsqueeze(-1).expand(-1, -1, x.size(-1)))
        adj = torch.gather(adj, 1, perm.unsqueeze(-1).expand(-1, -1, adj.size(-1)))
        adj = torch.gather(adj, 2, perm.unsqueeze(1).expand(-1, k, -1))
        return x, adj, score


class GraphClassifier(pl.LightningModule):
    def __init__(self, in_dim=7, hidden=32, n_classes=2, lr=5e-3):
        super().__init__()
        self.conv1 = DenseGCNLayer(in_dim, hidden)
        self.pool = NodeScorePool(hidden)
        self.conv2 = DenseGCNLayer(hidden, hidden)
        self.readout = nn.Linear(2 * hidden, n_classes)
        self.lr = lr

    def forward(self, x, adj):
        h = self.conv1(x, adj)
        h, adj, _ = self.pool(h, adj)
        h = self.conv2(h, adj)
        return self.readout(torch.cat([h.mean(1), h.max(1).values], dim=-1))

    def training_step(self, batch, batch_idx):
        x, adj, y = batch
        loss = F.cross_entropy(self(x, adj), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def random_graphs(n=48, nodes=10, feat=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    adj = (torch.rand(n, nodes, nodes, generator=g) > 0.7).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float()
    x = torch.randn(n, nodes, feat, generator=g)
    y = (adj.sum((1, 2)) > adj.sum((1, 2)).median()).long()
    return x, adj, y


def main():
    pl.seed_everything(0)
    x, adj, y = random_graphs()
    loader = DataLoader(TensorDataset(x, adj, y), batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    model = GraphClassifier()
    w0 = model.pool.scorer.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.training_step((x[:16], adj[:16], y[:16]), 0).backward()
    return {"model": model}, {"scorer_changed": not torch.equal(w0, model.pool.scorer.weight)}

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
