import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def projection_mlp(dim_in, dim_out):
    return nn.Sequential(nn.Linear(dim_in, dim_out), nn.BatchNorm1d(dim_out), nn.ReLU(), nn.Linear(dim_out, dim_out))


class SimSiam(nn.Module):
    def __init__(self, in_dim=24, feat_dim=32, pred_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, feat_dim))
        self.projector = projection_mlp(feat_dim, feat_dim)
        self.predictor = nn.Sequential(nn.Linear(feat_dim, pred_dim), nn.ReLU(), nn.Linear(pred_dim, feat_dim))

    def forward(self, x1, x2):
        z1 = self.projector(self.backbone(x1))
        z2 = self.projector(self.backbone(x2))
        return self.predictor(z1), self.predictor(z2), z1, z2


def negative_cosine(p, z):
    return -F.cosine_similarity(p.detach(), z, dim=-1).mean()


def augment(x, g):
    return x + 0.1 * torch.randn(x.shape, generator=g)


def train(model, loader, optimizer, accelerator, epochs=2):
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(epochs):
        for (x,) in loader:
            p1, p2, z1, z2 = model(augment(x, g), augment(x, g))
            loss = 0.5 * (negative_cosine(p1, z2) + negative_cosine(p2, z1))
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    data = torch.randn(64, 24, generator=torch.Generator().manual_seed(0))
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True)
    model = SimSiam()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    before = model.predictor[0].weight.detach().clone()
    train(model, loader, optimizer, accelerator)
    return {"model": model}, {"predictor_changed": not torch.equal(before, model.predictor[0].weight)}

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
