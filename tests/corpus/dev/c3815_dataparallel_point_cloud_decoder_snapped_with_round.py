import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class PointNetEncoder(nn.Module):
    def __init__(self, latent=16):
        super().__init__()
        self.shared = nn.Sequential(nn.Conv1d(3, 16, 1), nn.ReLU(), nn.Conv1d(16, latent, 1))

    def forward(self, pts):
        return self.shared(pts.transpose(1, 2)).max(dim=2).values


class FoldingDecoder(nn.Module):
    def __init__(self, latent=16, n_points=32):
        super().__init__()
        self.n_points = n_points
        self.mlp = nn.Sequential(nn.Linear(latent, 64), nn.ReLU(), nn.Linear(64, n_points * 3), nn.Tanh())

    def forward(self, z):
        return self.mlp(z).view(z.shape[0], self.n_points, 3)


def voxel_snap(points, resolution=16):
    """Snap generated points to the centres of the voxel grid the ground-truth clouds were sampled from."""
    return torch.round(points * resolution) / resolution


def chamfer_distance(a, b):
    d = torch.cdist(a, b)
    return d.min(dim=2).values.mean() + d.min(dim=1).values.mean()


class PointCloudAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = PointNetEncoder()
        self.decoder = FoldingDecoder()

    def forward(self, pts):
        return voxel_snap(self.decoder(self.encoder(pts)))


def make_loader(n=24, n_points=32):
    g = torch.Generator().manual_seed(0)
    clouds = []
    for i in range(n):
        u = torch.rand(n_points, 2, generator=g) * 2 - 1
        if i % 2:
            pts = torch.cat([u, 0.3 * torch.ones(n_points, 1)], 1)
        else:
            pts = torch.cat([u[:, :1], 0.5 * torch.cos(3 * u[:, :1]), u[:, 1:]], 1)
        clouds.append(torch.round(pts * 16) / 16)
    return DataLoader(TensorDataset(torch.stack(clouds)), batch_size=8, shuffle=True)


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for (pts,) in loader:
            loss = chamfer_distance(model(pts), pts)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(PointCloudAutoencoder())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    enc0 = model.module.encoder.shared[0].weight.detach().clone()
    dec0 = model.module.decoder.mlp[2].weight.detach().clone()
    train(model, make_loader(), optimizer, scheduler)
    with torch.no_grad():
        sample = model(next(iter(make_loader()))[0]) * 16
    return {"model": model.module}, {
        "outputs_on_voxel_grid": torch.allclose(sample, torch.round(sample)),
        "encoder_changed": not torch.equal(enc0, model.module.encoder.shared[0].weight),
        "decoder_changed": not torch.equal(dec0, model.module.decoder.mlp[2].weight),
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
