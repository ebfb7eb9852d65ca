import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class GINLayer(nn.Module):
    def __init__(self, dim, eps=0.0):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(), nn.Linear(dim, dim))
        self.eps = eps

    def forward(self, x, edge_index):
        src, dst = edge_index
        agg = torch.zeros_like(x).index_add(0, dst, x[src])
        return F.relu(self.mlp((1 + self.eps) * x + agg))


class GraphDataset(Dataset):
    def __init__(self, n_graphs=12, n_nodes=6, in_dim=5):
        g = torch.Generator().manual_seed(0)
        self.graphs = []
        for i in range(n_graphs):
            x = torch.randn(n_nodes, in_dim, generator=g)
            edges = torch.randint(0, n_nodes, (2, 10), generator=g)
            self.graphs.append((x, edges, torch.tensor(i % 2)))

    def __len__(self):
        return len(self.graphs)

    def __getitem__(self, i):
        return self.graphs[i]


def collate(batch):
    xs, edges, ys, batch_vec, offset = [], [], [], [], 0
    for gi, (x, e, y) in enumerate(batch):
        xs.append(x); edges.append(e + offset); ys.append(y)
        batch_vec.append(torch.full((x.shape[0],), gi)); offset += x.shape[0]
    return torch.cat(xs), torch.cat(edges, 1), torch.cat(batch_vec), torch.stack(ys)


class GIN(pl.LightningModule):
    def __init__(self, in_dim=5, hidden=16, n_layers=2, n_cls=2):
        super().__init__()
        self.encoder = nn.Linear(in_dim, hidden)
        self.layers = [GINLayer(hidden) for _ in range(n_layers)]
        self.readout = nn.Linear(hidden, n_cls)

    def forward(self, x, edge_index, batch_vec):
        h = self.encoder(x)
        for layer in self.layers:
            h = layer(h, edge_index)
        n_graphs = int(batch_vec.max()) + 1
        pooled = torch.zeros(n_graphs, h.shape[1]).index_add(0, batch_vec, h)
        return self.readout(pooled)

    def training_step(self, batch, batch_idx):
        x, edge_index, batch_vec, y = batch
        loss = F.cross_entropy(self(x, edge_index, batch_vec), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    model = GIN()
    loader = DataLoader(GraphDataset(), batch_size=4, shuffle=True, collate_fn=collate, generator=torch.Generator().manual_seed(0))
    w0, r0 = model.layers[0].mlp[0].weight.detach().clone(), model.readout.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    facts = {"gin0_changed": not torch.equal(w0, model.layers[0].mlp[0].weight),
             "readout_changed": not torch.equal(r0, model.readout.weight),
             "n_model_params_in_layers": sum(1 for n, _ in model.named_parameters() if n.startswith("layers"))}
    return {"gin0": model.layers[0], "model": model}, facts

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
