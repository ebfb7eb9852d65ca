import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class PointEncoder(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, d))

    def forward(self, pts):
        return self.mlp(pts).max(dim=1).values


def mlp_head(d_in, d_out=16, hidden=32):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class BYOL(nn.Module):
    def __init__(self, encoder, tau=0.99):
        super().__init__()
        self.online_encoder = encoder
        self.online_projector = mlp_head(32)
        self.predictor = mlp_head(16)
        self.target_encoder = copy.deepcopy(encoder)
        self.target_projector = copy.deepcopy(self.online_projector)
        for p in list(self.target_encoder.parameters()) + list(self.target_projector.parameters()):
            p.requires_grad_(False)
        self.tau = tau

    @torch.no_grad()
    def update_target(self):
        for online, target in ((self.online_encoder, self.target_encoder), (self.online_projector, self.target_projector)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(self.tau).add_(po.detach(), alpha=1 - self.tau)

    def forward(self, view1, view2):
        p1 = self.predictor(self.online_projector(self.online_encoder(view1)))
        p2 = self.predictor(self.online_projector(self.online_encoder(view2)))
        with torch.no_grad():
            t1 = self.target_projector(self.target_encoder(view1))
            t2 = self.target_projector(self.target_encoder(view2))
        return byol_loss(p1, t2) + byol_loss(p2, t1)


def byol_loss(p, z):
    return (2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1)).mean()


def augment(pts, g):
    angle = torch.rand(pts.size(0), generator=g) * 6.283
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.stack([c, -s, torch.zeros_like(c), s, c, torch.zeros_like(c),
                       torch.zeros_like(c), torch.zeros_like(c), torch.ones_like(c)], -1).view(-1, 3, 3)
    return pts @ rot + 0.02 * torch.randn(pts.shape, generator=g)


def train(fabric, model, optimizer, loader, epochs):
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        for (pts,) in loader:
            loss = model(augment(pts, g), augment(pts, g))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            model.update_target()
            fabric.log("byol_loss", loss.item())


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(32, 24, 3, generator=g)), batch_size=8, shuffle=True, generator=g))
    model = BYOL(PointEncoder())
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    online0 = model.online_encoder.mlp[0].weight.detach().clone()
    target0 = model.target_encoder.mlp[0].weight.detach().clone()
    train(fabric, model, optimizer, loader, epochs=2)
    return {"model": model.module}, {
        "online_changed": not torch.equal(online0, model.online_encoder.mlp[0].weight),
        "target_tracks_online": not torch.equal(target0, model.target_encoder.mlp[0].weight),
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
