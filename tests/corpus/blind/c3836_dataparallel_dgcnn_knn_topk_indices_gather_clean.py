import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def knn(x, k):
    """x: (B, C, N) -> indices of the k nearest neighbours of every point in feature space."""
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = (x ** 2).sum(dim=1, keepdim=True)
    pairwise = -xx - inner - xx.transpose(2, 1)
    return pairwise.topk(k=k, dim=-1).indices


def get_graph_feature(x, k=8):
    b, c, n = x.shape
    idx = knn(x, k)
    idx = (idx + torch.arange(b).view(-1, 1, 1) * n).view(-1)
    x_t = x.transpose(2, 1).contiguous()
    neighbours = x_t.view(b * n, c)[idx].view(b, n, k, c)
    centre = x_t.view(b, n, 1, c).expand(-1, -1, k, -1)
    return torch.cat([neighbours - centre, centre], dim=3).permute(0, 3, 1, 2)


class DGCNN(nn.Module):
    def __init__(self, k=8, n_classes=3):
        super().__init__()
        self.k = k
        self.edge1 = nn.Sequential(nn.Conv2d(6, 16, 1, bias=False), nn.BatchNorm2d(16), nn.LeakyReLU(0.2))
        self.edge2 = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False), nn.BatchNorm2d(16), nn.LeakyReLU(0.2))
        self.head = nn.Sequential(nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, n_classes))

    def forward(self, pts):
        x = pts.transpose(1, 2)
        x1 = self.edge1(get_graph_feature(x, self.k)).max(dim=-1).values
        x2 = self.edge2(get_graph_feature(x1, self.k)).max(dim=-1).values
        return self.head(torch.cat([x1, x2], 1).max(dim=-1).values)


def make_loader(n=24, n_points=24):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    pts = torch.rand(n, n_points, 3, generator=g) * 2 - 1
    pts[y == 0, :, 2] *= 0.1
    pts[y == 1] = F.normalize(pts[y == 1], dim=-1)
    return DataLoader(TensorDataset(pts, y), batch_size=8, shuffle=True)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(DGCNN())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2, eta_min=1e-3)
    e10 = model.module.edge1[0].weight.detach().clone()
    e20 = model.module.edge2[0].weight.detach().clone()
    for epoch in range(2):
        for pts, y in make_loader():
            loss = F.cross_entropy(model(pts), y, label_smoothing=0.2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    return {"model": model.module}, {
        "edge_conv1_changed": not torch.equal(e10, model.module.edge1[0].weight),
        "edge_conv2_changed": not torch.equal(e20, model.module.edge2[0].weight),
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
