import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RGCNLayer(nn.Module):
    def __init__(self, in_dim, out_dim, n_relations):
        super().__init__()
        self.self_loop = nn.Linear(in_dim, out_dim, bias=False)
        self.rel_weights = {}
        for r in range(n_relations):
            self.rel_weights[r] = nn.Parameter(torch.randn(in_dim, out_dim) * 0.1)

    def forward(self, x, edge_index, edge_type):
        out = self.self_loop(x)
        src, dst = edge_index
        for r, w in self.rel_weights.items():
            sel = edge_type == r
            msg = x[src[sel]] @ w
            out = out.index_add(0, dst[sel], msg)
        return F.relu(out)


class DistMultDecoder(nn.Module):
    def __init__(self, dim, n_relations):
        super().__init__()
        self.rel_diag = nn.Parameter(torch.ones(n_relations, dim))

    def forward(self, h, triples):
        s, r, o = triples.unbind(-1)
        return (h[s] * self.rel_diag[r] * h[o]).sum(-1)


class LinkPredictor(pl.LightningModule):
    def __init__(self, n_nodes, edge_index, edge_type, n_relations=3, dim=16):
        super().__init__()
        self.embed = nn.Embedding(n_nodes, dim)
        self.layer = RGCNLayer(dim, dim, n_relations)
        self.decoder = DistMultDecoder(dim, n_relations)
        self.register_buffer("edge_index", edge_index)
        self.register_buffer("edge_type", edge_type)

    def training_step(self, batch, batch_idx):
        triples, labels = batch
        h = self.layer(self.embed.weight, self.edge_index, self.edge_type)
        return F.binary_cross_entropy_with_logits(self.decoder(h, triples), labels)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    n_nodes, n_edges = 30, 90
    edge_index = torch.randint(0, n_nodes, (2, n_edges))
    edge_type = torch.randint(0, 3, (n_edges,))
    pos = torch.stack([edge_index[0], edge_type, edge_index[1]], dim=1)
    neg = torch.stack([torch.randint(0, n_nodes, (n_edges,)), edge_type, torch.randint(0, n_nodes, (n_edges,))], dim=1)
    triples = torch.cat([pos, neg])
    labels = torch.cat([torch.ones(n_edges), torch.zeros(n_edges)])
    loader = DataLoader(TensorDataset(triples, labels), batch_size=60, shuffle=True)
    model = LinkPredictor(n_nodes, edge_index, edge_type)
    w0 = model.layer.rel_weights[0].detach().clone()
    s0 = model.layer.self_loop.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model, "rel_w0": model.layer.rel_weights[0]}, {
        "relation_weights_changed": not torch.equal(w0, model.layer.rel_weights[0].detach()),
        "self_loop_changed": not torch.equal(s0, model.layer.self_loop.weight),
    }

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
