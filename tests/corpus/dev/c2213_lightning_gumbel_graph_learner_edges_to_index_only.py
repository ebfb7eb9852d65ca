import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GraphLearner(nn.Module):
    """Learns a discrete adjacency from node features (straight-through Gumbel-softmax)."""

    def __init__(self, in_dim, emb=16):
        super().__init__()
        self.proj = nn.Linear(in_dim, emb)

    def forward(self, x, tau=0.5):
        h = self.proj(x)
        logits = h @ h.t() / h.size(-1) ** 0.5
        pair = torch.stack([logits, -logits], dim=-1)
        return F.gumbel_softmax(pair, tau=tau, hard=True)[..., 0]


def dense_to_edge_index(adj):
    return adj.nonzero().t()


class MeanConv(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)
        self.root = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x, edge_index, edge_weight=None):
        src, dst = edge_index
        msg = self.lin(x)[src]
        if edge_weight is not None:
            msg = msg * edge_weight.unsqueeze(-1)
        agg = torch.zeros(x.size(0), msg.size(-1)).index_add(0, dst, msg)
        deg = torch.bincount(dst, minlength=x.size(0)).clamp(min=1).unsqueeze(-1)
        return agg / deg + self.root(x)


class LatentGraphClassifier(pl.LightningModule):
    def __init__(self, in_dim=8, hidden=16, n_cls=3, lr=1e-2):
        super().__init__()
        self.learner = GraphLearner(in_dim)
        self.conv1 = MeanConv(in_dim, hidden)
        self.conv2 = MeanConv(hidden, n_cls)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y, mask = batch[0][0], batch[1][0], batch[2][0]
        adj = self.learner(x)
        edge_index = dense_to_edge_index(adj)
        h = self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)
        loss = F.cross_entropy(h[mask], y[mask])
        self.log("train_loss", loss.detach(), prog_bar=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=5e-4)


def main():
    pl.seed_everything(0)
    n = 24
    x = torch.randn(n, 8)
    y = torch.randint(0, 3, (n,))
    mask = torch.rand(n) < 0.6
    loader = DataLoader(TensorDataset(x.unsqueeze(0), y.unsqueeze(0), mask.unsqueeze(0)), batch_size=1)
    model = LatentGraphClassifier()
    pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
