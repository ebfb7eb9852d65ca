import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, dim, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, x):
        return self.stem(x)


class SuperVLAD(nn.Module):
    def __init__(self, dim=32, clusters=4):
        super().__init__()
        self.assign = nn.Conv2d(dim, clusters, 1)

    def forward(self, feats):
        a = self.assign(feats).flatten(2).softmax(dim=1)  # B x K x HW
        desc = torch.einsum("bkn,bcn->bkc", a, feats.flatten(2))
        return F.normalize(desc, dim=-1).flatten(1)


class CrossImageEncoder(nn.Module):
    """Refines each descriptor with the other images of the batch (a one-layer transformer)."""

    def __init__(self, dim=128):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=64, batch_first=True)

    def forward(self, desc):
        return self.layer(desc.unsqueeze(0)).squeeze(0)


class PlaceModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone, self.aggregator, self.encoder = Backbone(), SuperVLAD(), CrossImageEncoder()

    def forward(self, images):
        return F.normalize(self.encoder(self.aggregator(self.backbone(images))), dim=-1)


def configure(model, lr=1e-3, lr_encoder=1e-4):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    optim_encoder = torch.optim.Adam(model.encoder.parameters(), lr=lr_encoder)
    for p in model.encoder.parameters():
        p.requires_grad = False  # the encoder has its own optimizer and learning rate
    return optimizer, optim_encoder


def train(fabric, model, loader, optimizer, optim_encoder, crossimage_encoder=True):
    for anchors, positives in loader:
        q, p = model(anchors), model(positives)
        logits = q @ p.t() / 0.07
        loss = F.cross_entropy(logits, torch.arange(q.size(0)))
        optimizer.zero_grad()
        optim_encoder.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        if crossimage_encoder:
            for p_ in model.encoder.parameters():
                p_.requires_grad = True
            optim_encoder.step()
            for p_ in model.encoder.parameters():
                p_.requires_grad = False


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(4)
    g = torch.Generator().manual_seed(4)
    anchors = torch.randn(32, 3, 16, 16, generator=g)
    positives = anchors + 0.1 * torch.randn(32, 3, 16, 16, generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(anchors, positives), batch_size=8, shuffle=True, generator=g))
    model = PlaceModel()
    optimizer, optim_encoder = configure(model)
    model, optimizer, optim_encoder = fabric.setup(model, optimizer, optim_encoder)
    w0 = model.module.encoder.layer.linear1.weight.detach().clone()
    train(fabric, model, loader, optimizer, optim_encoder)
    return {"model": model.module}, {"encoder_changed": not torch.equal(w0, model.module.encoder.layer.linear1.weight)}

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
