import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class ContrastiveClustering(nn.Module):
    def __init__(self, in_dim=10, feat_dim=16, proj_dim=8, n_clusters=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, feat_dim))
        self.instance_proj = nn.Sequential(nn.Linear(feat_dim, 16), nn.ReLU(), nn.Linear(16, proj_dim))
        self.cluster_proj = nn.Sequential(nn.Linear(feat_dim, 16), nn.ReLU(), nn.Linear(16, n_clusters))
        self.n_clusters = n_clusters

    def assign(self, h):
        return F.one_hot(self.cluster_proj(h).argmax(dim=1), self.n_clusters).float()

    def forward(self, x_i, x_j):
        h_i, h_j = self.backbone(x_i), self.backbone(x_j)
        z_i = F.normalize(self.instance_proj(h_i), dim=1)
        z_j = F.normalize(self.instance_proj(h_j), dim=1)
        return z_i, z_j, self.assign(h_i), self.assign(h_j)


def nt_xent(a, b, temperature):
    n = a.size(0)
    z = torch.cat([a, b], dim=0)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def cluster_loss(c_i, c_j, temperature=1.0):
    p_i = c_i.sum(0) / c_i.sum()
    ne = (p_i * torch.log(p_i.clamp_min(1e-8))).sum()
    return nt_xent(F.normalize(c_i.T, dim=1), F.normalize(c_j.T, dim=1), temperature) + ne


def train_one_epoch(model, loader, optimizer, accelerator):
    for (x,) in loader:
        x_i = x + 0.1 * torch.randn_like(x)
        x_j = x + 0.1 * torch.randn_like(x)
        z_i, z_j, c_i, c_j = model(x_i, x_j)
        loss = nt_xent(z_i, z_j, 0.5) + cluster_loss(c_i, c_j)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    data = torch.cat([torch.randn(16, 10, generator=g) + 3 * k for k in range(4)])
    model = ContrastiveClustering()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    c0 = model.cluster_proj[0].weight.detach().clone()
    b0 = model.backbone[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "cluster_proj_changed": not torch.equal(c0, model.cluster_proj[0].weight),
        "backbone_changed": not torch.equal(b0, model.backbone[0].weight),
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
