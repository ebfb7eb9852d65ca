import torch
import torch.nn as nn
import torch.nn.functional as F


class PointEncoder(nn.Module):
    """PointNet-style shared MLP over (B, 3, N) point clouds."""

    def __init__(self, width=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv1d(3, width, 1), nn.BatchNorm1d(width), nn.ReLU(),
                                 nn.Conv1d(width, width, 1), nn.BatchNorm1d(width), nn.ReLU())

    def forward(self, pts):
        return self.mlp(pts)


class SoftPool(nn.Module):
    """Sort points by their per-channel activation, keep the top-k, and mix them with a learned conv."""

    def __init__(self, k=4):
        super().__init__()
        self.k = k

    def forward(self, feats):
        b, c, n = feats.shape
        order = feats.argsort(dim=-1, descending=True)[..., :self.k]
        top = feats.gather(-1, order)
        regional = nn.Conv1d(c, c, kernel_size=self.k)
        return F.relu(regional(top)).squeeze(-1)


class PointClassifier(nn.Module):
    def __init__(self, n_classes=3, width=16):
        super().__init__()
        self.encoder = PointEncoder(width)
        self.pool = SoftPool(k=4)
        self.classifier = nn.Linear(width, n_classes)

    def forward(self, pts):
        return self.classifier(self.pool(self.encoder(pts)))


def make_clouds(n=24, points=16):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 3
    scale = torch.tensor([[1.0, 1.0, 0.2], [1.0, 0.2, 1.0], [0.2, 1.0, 1.0]])[labels]
    pts = torch.randn(n, 3, points, generator=g) * scale[:, :, None]
    return pts, labels


def train(model, optimizer, pts, labels, epochs=4, batch=8):
    model.train()
    for epoch in range(epochs):
        for i in range(0, len(pts), batch):
            loss = F.cross_entropy(model(pts[i:i + batch]), labels[i:i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    net = PointClassifier()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    pts, labels = make_clouds()
    train(model, optimizer, pts, labels)
    model.eval()
    with torch.no_grad():
        out1, out2 = model(pts[:4]), model(pts[:4])
    facts = {"eval_outputs_match": bool(torch.allclose(out1, out2)),
             "pool_weights_in_state_dict": any(k.startswith("pool.") for k in net.state_dict())}
    return {"net": net}, facts

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
