import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


CFG = {
    "k": 6,
    "num_points": 48,
    "edge_dims": (16, 32),
    "emb_dims": 64,
    "num_classes": 4,
    "dropout": 0.3,
    "lr": 5e-3,
}


def knn(x, k):
    """Indices of the k nearest neighbours of every point in feature space: (B, N, k)."""
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = torch.sum(x ** 2, dim=1, keepdim=True)
    pairwise = -xx - inner - xx.transpose(2, 1)
    return pairwise.topk(k=k, dim=-1)[1]


def get_graph_feature(x, k):
    """EdgeConv input (x_j - x_i, x_i) over the dynamic kNN graph built in feature space."""
    B, C, N = x.shape
    x = x.detach()  # the neighbour search needs no gradient
    idx = knn(x, k)
    idx = (idx + torch.arange(B, device=x.device).view(-1, 1, 1) * N).view(-1)
    pts = x.transpose(2, 1).contiguous()
    neighbours = pts.view(B * N, -1)[idx, :].view(B, N, k, C)
    center = pts.view(B, N, 1, C).expand(-1, -1, k, -1)
    return torch.cat((neighbours - center, center), dim=3).permute(0, 3, 1, 2).contiguous()


class EdgeConv(nn.Module):
    def __init__(self, in_dim, out_dim, k):
        super().__init__()
        self.k = k
        self.conv = nn.Sequential(
            nn.Conv2d(2 * in_dim, out_dim, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_dim),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x):
        return self.conv(get_graph_feature(x, self.k)).max(dim=-1)[0]


class DGCNNLite(nn.Module):
    """Two EdgeConv stages (dynamic graph), a point-wise embedding and a global max-pool head."""

    def __init__(self, cfg):
        super().__init__()
        d1, d2 = cfg["edge_dims"]
        self.edge1 = EdgeConv(3, d1, cfg["k"])
        self.edge2 = EdgeConv(d1, d2, cfg["k"])
        self.embed = nn.Sequential(nn.Conv1d(d2, cfg["emb_dims"], 1, bias=False),
                                   nn.BatchNorm1d(cfg["emb_dims"]), nn.LeakyReLU(0.2))
        self.head = nn.Sequential(nn.Linear(cfg["emb_dims"], 32), nn.LeakyReLU(0.2),
                                  nn.Dropout(cfg["dropout"]), nn.Linear(32, cfg["num_classes"]))

    def forward(self, pts):
        x = self.edge1(pts)
        x = self.edge2(x)
        x = self.embed(x).max(dim=-1)[0]
        return self.head(x)


class PointCloudClassifier(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.net = DGCNNLite(cfg)

    def training_step(self, batch, batch_idx):
        pts, labels = batch
        logits = self.net(pts)
        loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
        self.log("train/loss", loss.item(), prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"], weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1e-4)
        return [opt], [sched]


def synthetic_shapes(cfg, n=16):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % cfg["num_classes"]
    pts = torch.randn(n, 3, cfg["num_points"], generator=g)
    scale = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.5, 0.5], [0.5, 2.0, 0.5], [0.5, 0.5, 2.0]])
    pts = pts * scale[labels].unsqueeze(-1)
    return DataLoader(TensorDataset(pts, labels), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = PointCloudClassifier(CFG)
    e1 = model.net.edge1.conv[0].weight.detach().clone()
    e2 = model.net.edge2.conv[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, synthetic_shapes(CFG))
    return {"model": model}, {
        "edge1_changed": not torch.equal(e1, model.net.edge1.conv[0].weight),
        "edge2_changed": not torch.equal(e2, model.net.edge2.conv[0].weight),
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
