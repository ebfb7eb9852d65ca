import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def normalized_adjacency(edge_index, num_nodes):
    adj = torch.zeros(num_nodes, num_nodes)
    adj[edge_index[0], edge_index[1]] = 1.0
    adj = adj + adj.t() + torch.eye(num_nodes)
    deg_inv_sqrt = adj.sum(1).clamp(min=1).pow(-0.5)
    return deg_inv_sqrt[:, None] * adj * deg_inv_sqrt[None, :]


class GraphConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)

    def forward(self, x, adj):
        return adj @ self.lin(x)


class FeaturelessNodeClassifier(pl.LightningModule):
    """Nodes have no input features, so each node gets a learned embedding (as in GCN on featureless graphs)."""

    def __init__(self, adj, num_nodes, emb_dim=16, hidden=16, num_classes=3):
        super().__init__()
        self.register_buffer("adj", adj)
        self.node_emb = torch.randn(num_nodes, emb_dim, requires_grad=True)
        self.conv1 = GraphConv(emb_dim, hidden)
        self.conv2 = GraphConv(hidden, num_classes)

    def forward(self):
        h = F.relu(self.conv1(self.node_emb, self.adj))
        return self.conv2(h, self.adj)

    def training_step(self, batch, batch_idx):
        nodes, labels = batch
        logits = self()[nodes]
        loss = F.cross_entropy(logits, labels)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.02)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    num_nodes = 30
    edge_index = torch.randint(0, num_nodes, (2, 80), generator=g)
    labels = torch.randint(0, 3, (num_nodes,), generator=g)
    loader = DataLoader(TensorDataset(torch.arange(num_nodes), labels), batch_size=10, shuffle=True, generator=g)
    model = FeaturelessNodeClassifier(normalized_adjacency(edge_index, num_nodes), num_nodes)
    emb_before = model.node_emb.detach().clone()
    conv_before = model.conv1.lin.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    facts = {
        "node_emb_changed": not torch.equal(emb_before, model.node_emb),
        "conv1_changed": not torch.equal(conv_before, model.conv1.lin.weight),
        "node_emb_is_parameter": any(p is model.node_emb for p in model.parameters()),
    }
    return {"model": model}, facts

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
