import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_points": 24, "k": 6, "classes": 3, "lr": 3e-3, "epochs": 2}


def knn_indices(x, k):
    """Indices of the k nearest neighbours in feature space (B, N, k)."""
    dist = torch.cdist(x, x)
    return dist.topk(k + 1, dim=-1, largest=False).indices[..., 1:]


def edge_features(x, idx):
    b, n, c = x.shape
    neighbours = torch.gather(x.unsqueeze(1).expand(b, n, n, c), 2, idx.unsqueeze(-1).expand(-1, -1, -1, c))
    center = x.unsqueeze(2).expand_as(neighbours)
    return torch.cat([center, neighbours - center], dim=-1)


class EdgeConv(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.k = k
        self.mlp = nn.Sequential(nn.Linear(2 * cin, cout), nn.LeakyReLU(0.2))

    def forward(self, x):
        return self.mlp(edge_features(x, knn_indices(x, self.k))).max(dim=2).values


class DGCNN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ec1 = EdgeConv(3, 32, cfg["k"])
        self.ec2 = EdgeConv(32, 32, cfg["k"])
        self.head = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, cfg["classes"]))

    def forward(self, pts):
        f1 = self.ec1(pts)
        f2 = self.ec2(f1)
        return self.head(torch.cat([f1, f2], dim=-1).max(dim=1).values)


def train(fabric, model, optimizer, loader, cfg):
    for epoch in range(cfg["epochs"]):
        for pts, label in loader:
            loss = F.cross_entropy(model(pts), label)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    label = torch.arange(36) % CFG["classes"]
    pts = torch.randn(36, CFG["n_points"], 3, generator=g) * (1.0 + label[:, None, None].float())
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(pts, label), batch_size=12, shuffle=True, generator=g))
    model = DGCNN(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    w1, w2 = model.module.ec1.mlp[0].weight.detach().clone(), model.module.ec2.mlp[0].weight.detach().clone()
    train(fabric, model, optimizer, loader, CFG)
    return {"model": model.module}, {"edgeconv1_changed": not torch.equal(w1, model.module.ec1.mlp[0].weight),
                                     "edgeconv2_changed": not torch.equal(w2, model.module.ec2.mlp[0].weight)}

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
