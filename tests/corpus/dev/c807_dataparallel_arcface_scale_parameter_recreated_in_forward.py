import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, d_in=24, d_emb=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 32), nn.BatchNorm1d(32), nn.PReLU(), nn.Linear(32, d_emb))

    def forward(self, x):
        return self.net(x)


class CosFaceHead(nn.Module):
    """Cosine-margin classifier with a learnable logit scale (stored as log s)."""

    def __init__(self, d_emb=16, n_ids=6, margin=0.2, init_scale=16.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_ids, d_emb) * 0.05)
        self.init_scale = init_scale
        self.log_scale = nn.Parameter(torch.tensor(math.log(init_scale)))
        self.margin = margin

    def forward(self, emb, labels):
        # keep the scale on the same device as the features (DataParallel replicas)
        self.log_scale = nn.Parameter(torch.full((), math.log(self.init_scale), device=emb.device))
        cos = F.normalize(emb) @ F.normalize(self.weight).t()
        cos = cos - self.margin * F.one_hot(labels, cos.size(1))
        return cos * self.log_scale.exp()


class FaceIdModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = CosFaceHead()

    def forward(self, x, labels):
        return self.head(self.backbone(x), labels)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x, y), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(96, 24)
    y = torch.randint(0, 6, (96,))
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    net = FaceIdModel()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    trained_scale = net.head.log_scale
    train(model, loader, optimizer)
    facts = {
        "optimizer_holds_live_scale": any(p is net.head.log_scale for g in optimizer.param_groups for p in g["params"]),
        "scale_moved_from_init": abs(float(net.head.log_scale) - math.log(16.0)) > 1e-6,
    }
    return {"model": net, "trained_scale": trained_scale}, facts

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
