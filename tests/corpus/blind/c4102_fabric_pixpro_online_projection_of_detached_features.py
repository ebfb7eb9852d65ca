import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ConvEncoder(nn.Module):
    def __init__(self, c=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                                 nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class PixelProjector(nn.Module):
    def __init__(self, c=16, d=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, d, 1))

    def forward(self, f):
        return self.net(f)


def project_pixels(projector, feats):
    """Shared by the online and the momentum branch."""
    return F.normalize(projector(feats.detach()), dim=1)


class PixPro(nn.Module):
    def __init__(self, momentum=0.99):
        super().__init__()
        self.encoder, self.projector = ConvEncoder(), PixelProjector()
        self.propagation = nn.Conv2d(8, 8, 1)
        self.target_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)
        self.m = momentum

    @torch.no_grad()
    def momentum_update(self):
        for o, t in zip(list(self.encoder.parameters()) + list(self.projector.parameters()),
                        list(self.target_encoder.parameters()) + list(self.target_projector.parameters())):
            t.mul_(self.m).add_(o, alpha=1 - self.m)

    def pixel_propagation(self, y):
        b, d, h, w = y.shape
        flat = y.flatten(2)
        sim = F.relu(torch.einsum("bdi,bdj->bij", flat, flat)) ** 2
        return F.normalize((self.propagation(y).flatten(2) @ sim.transpose(1, 2)).view(b, d, h, w), dim=1)

    def forward(self, view1, view2):
        y1 = self.pixel_propagation(project_pixels(self.projector, self.encoder(view1)))
        y2 = self.pixel_propagation(project_pixels(self.projector, self.encoder(view2)))
        with torch.no_grad():
            t1 = F.normalize(self.target_projector(self.target_encoder(view1)), dim=1)
            t2 = F.normalize(self.target_projector(self.target_encoder(view2)), dim=1)
        return -(F.cosine_similarity(y1, t2, dim=1).mean() + F.cosine_similarity(y2, t1, dim=1).mean())


def train(fabric, model, optimizer, loader, epochs):
    for _ in range(epochs):
        for (img,) in loader:
            flipped = img.flip(-1)
            loss = model(img + 0.05 * torch.randn_like(img), flipped)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            model.momentum_update()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.rand(16, 3, 8, 8, generator=g)), batch_size=4, shuffle=True, generator=g))
    model = PixPro()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    enc0 = model.encoder.net[0].weight.detach().clone()
    proj0 = model.projector.net[0].weight.detach().clone()
    train(fabric, model, optimizer, loader, epochs=2)
    return {"model": model.module}, {
        "encoder_changed": not torch.equal(enc0, model.encoder.net[0].weight),
        "projector_changed": not torch.equal(proj0, model.projector.net[0].weight),
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
