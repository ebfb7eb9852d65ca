import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def icosahedron_like(n=12):
    """Points on the unit sphere (a stand-in for the initial ellipsoid) and a kNN adjacency."""
    idx = torch.arange(n).float() + 0.5
    phi, theta = torch.acos(1 - 2 * idx / n), math.pi * (1 + 5 ** 0.5) * idx
    pts = torch.stack([phi.sin() * theta.cos(), phi.sin() * theta.sin(), phi.cos()], 1)
    d = torch.cdist(pts, pts)
    adj = (d <= d.topk(4, largest=False).values[:, -1:]).float()
    return pts, adj / adj.sum(1, keepdim=True)


class GraphConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.w_self, self.w_neigh = nn.Linear(cin, cout), nn.Linear(cin, cout, bias=False)

    def forward(self, x, adj):
        return self.w_self(x) + adj @ self.w_neigh(x)


class MeshDeformer(nn.Module):
    def __init__(self, img_feat=16, hidden=32):
        super().__init__()
        pts, adj = icosahedron_like()
        self.init_pts = nn.Parameter(pts, requires_grad=False)
        self.register_buffer("adj", adj)
        self.image_encoder = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                           nn.Conv2d(8, img_feat, 3, stride=2, padding=1), nn.ReLU())
        self.gc1 = GraphConv(3 + img_feat, hidden)
        self.gc2 = GraphConv(hidden, hidden)
        self.to_offset = GraphConv(hidden, 3)

    def forward(self, images):
        feat = self.image_encoder(images).mean(dim=(2, 3))
        b, n = images.shape[0], self.init_pts.shape[0]
        x = torch.cat([self.init_pts.expand(b, n, 3), feat[:, None, :].expand(b, n, feat.shape[1])], dim=-1)
        h = F.relu(self.gc1(x, self.adj))
        h = F.relu(self.gc2(h, self.adj)) + h
        return self.init_pts + self.to_offset(h, self.adj)


def chamfer(a, b):
    d = torch.cdist(a, b)
    return d.min(2).values.mean() + d.min(1).values.mean()


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for images, target_pts in loader:
            pred = model(images)
            loss = chamfer(pred, target_pts) + 0.1 * pred.diff(dim=1).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    net = MeshDeformer()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, net.parameters()), lr=1e-3)
    images = torch.rand(16, 3, 16, 16)
    targets = icosahedron_like()[0] * (1 + images.mean(dim=(1, 2, 3))[:, None, None])
    loader = DataLoader(TensorDataset(images, targets), batch_size=8, shuffle=True)
    pts0 = net.init_pts.detach().clone()
    train(model, loader, optimizer)
    return ({"deformer": net},
            {"template_unchanged": torch.equal(pts0, net.init_pts.detach()),
             "template_in_state_dict": "init_pts" in net.state_dict()})

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
