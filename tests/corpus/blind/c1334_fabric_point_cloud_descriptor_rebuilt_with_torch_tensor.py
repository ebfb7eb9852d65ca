import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def as_float_block(values):
    """Accepts numpy arrays, lists or tensors and returns a float32 tensor block."""
    return torch.tensor(values, dtype=torch.float32)


class PointEncoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.point_mlp = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, dim))

    def forward(self, points):
        return self.point_mlp(points).max(dim=1).values


class ShapeRegressor(nn.Module):
    def __init__(self, n_global=2, dim=32):
        super().__init__()
        self.encoder = PointEncoder(dim)
        self.readout = nn.Sequential(nn.Linear(dim + n_global, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, points, global_feats):
        descriptor = torch.cat([as_float_block(self.encoder(points)), as_float_block(global_feats)], dim=-1)
        return self.readout(descriptor).squeeze(-1)


def make_loader():
    rng = np.random.default_rng(35)
    points = rng.normal(size=(32, 20, 3)).astype(np.float32)
    global_feats = np.stack([points.std(axis=(1, 2)), np.abs(points).max(axis=(1, 2))], axis=1)
    target = (points ** 2).sum(-1).mean(-1)
    ds = TensorDataset(torch.from_numpy(points), torch.from_numpy(global_feats), torch.from_numpy(target))
    return DataLoader(ds, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(35))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ShapeRegressor()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    enc0 = model.module.encoder.point_mlp[0].weight.detach().clone()
    for epoch in range(2):
        for points, global_feats, target in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(points, global_feats), target)
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}, {"encoder_changed": not torch.equal(enc0, model.module.encoder.point_mlp[0].weight)}

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
