import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RGCNLayer(nn.Module):
    def __init__(self, in_dim, out_dim, num_rels):
        super().__init__()
        self.rel_weights = [nn.Parameter(torch.randn(in_dim, out_dim) / in_dim ** 0.5) for _ in range(num_rels)]
        self.self_loop = nn.Linear(in_dim, out_dim)

    def forward(self, x, edge_index, edge_type):
        src, dst = edge_index
        out = self.self_loop(x)
        for r, w in enumerate(self.rel_weights):
            m = edge_type == r
            msg = x[src[m]] @ w
            out = out.index_add(0, dst[m], msg)
        return out


class LinkPredictor(pl.LightningModule):
    def __init__(self, num_nodes=20, dim=16, num_rels=3, lr=1e-2):
        super().__init__()
        self.node_emb = nn.Embedding(num_nodes, dim)
        self.conv1 = RGCNLayer(dim, dim, num_rels)
        self.conv2 = RGCNLayer(dim, dim, num_rels)
        self.rel_emb = nn.Parameter(torch.randn(num_rels, dim) * 0.1)
        self.lr = lr

    def encode(self, edge_index, edge_type):
        h = F.relu(self.conv1(self.node_emb.weight, edge_index, edge_type))
        return self.conv2(h, edge_index, edge_type)

    def score(self, h, triples):
        s, r, o = triples.t()
        return (h[s] * self.rel_emb[r] * h[o]).sum(-1)

    def training_step(self, batch, batch_idx):
        edge_index, edge_type, pos, neg = (t[0] for t in batch)
        h = self.encode(edge_index, edge_type)
        logits = torch.cat([self.score(h, pos), self.score(h, neg)])
        target = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))])
        loss = F.binary_cross_entropy_with_logits(logits, target)
        self.log("loss", loss.detach())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    n, e = 20, 60
    edge_index = torch.randint(0, n, (2, e))
    edge_type = torch.randint(0, 3, (e,))
    pos = torch.stack([edge_index[0], edge_type, edge_index[1]], dim=1)[:16]
    neg = torch.stack([torch.randint(0, n, (16,)), torch.randint(0, 3, (16,)), torch.randint(0, n, (16,))], dim=1)
    ds = TensorDataset(edge_index[None], edge_type[None], pos[None], neg[None])
    model = LinkPredictor()
    w0 = model.conv1.rel_weights[0].detach().clone()
    pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False).fit(model, DataLoader(ds, batch_size=1))
    return ({"model": model, "conv1_rel0": model.conv1.rel_weights[0]},
            {"relation_weight_changed": not torch.equal(w0, model.conv1.rel_weights[0]),
             "registered_rel_weights": sum("rel_weights" in n for n, _ in model.named_parameters())})

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
