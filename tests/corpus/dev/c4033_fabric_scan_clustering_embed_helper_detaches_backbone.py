import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def build_backbone(in_dim, feat_dim):
    return nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, feat_dim))


class ClusteringModel(nn.Module):
    def __init__(self, in_dim=10, feat_dim=8, n_clusters=4):
        super().__init__()
        self.backbone = build_backbone(in_dim, feat_dim)
        self.cluster_head = nn.Linear(feat_dim, n_clusters)

    def embed(self, x):
        return F.normalize(self.backbone(x), dim=1).detach()

    def forward(self, x):
        return self.cluster_head(self.embed(x))


@torch.no_grad()
def mine_neighbors(model, data, k=3):
    feats = model.embed(data)
    sim = feats @ feats.T
    return sim.topk(k + 1, dim=1).indices[:, 1:]


def scan_loss(anchor_logits, neighbor_logits, entropy_weight=2.0):
    pa, pn = anchor_logits.softmax(1), neighbor_logits.softmax(1)
    consistency = -torch.log((pa * pn).sum(1).clamp_min(1e-8)).mean()
    mean_p = pa.mean(0)
    entropy = -(mean_p * torch.log(mean_p.clamp_min(1e-8))).sum()
    return consistency - entropy_weight * entropy


def train(fabric, model, optimizer, loader, data, neighbors, epochs=2):
    for _ in range(epochs):
        for (idx,) in loader:
            nbr = neighbors[idx, torch.randint(0, neighbors.size(1), (idx.size(0),))]
            loss = scan_loss(model(data[idx]), model(data[nbr]))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = torch.cat([torch.randn(16, 10, generator=g) + 2 * c for c in range(4)])
    net = ClusteringModel()
    neighbors = mine_neighbors(net, data)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.arange(64)), batch_size=16, shuffle=True, generator=g))
    bb0 = net.backbone[0].weight.detach().clone()
    head0 = net.cluster_head.weight.detach().clone()
    train(fabric, model, optimizer, loader, data, neighbors)
    return {"model": net}, {
        "backbone_changed": not torch.equal(bb0, net.backbone[0].weight),
        "cluster_head_changed": not torch.equal(head0, net.cluster_head.weight),
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
