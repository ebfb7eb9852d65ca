import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ResidualConvUnit(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class FeatureFusionBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.rcu1 = ResidualConvUnit(c)
        self.rcu2 = ResidualConvUnit(c)

    def forward(self, x, skip=None):
        if skip is not None:
            x = x + self.rcu1(skip)
        x = self.rcu2(x)
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class Encoder(nn.Module):
    def __init__(self, widths=(8, 16, 32)):
        super().__init__()
        chans = (3,) + tuple(widths)
        self.stages = nn.ModuleList([nn.Sequential(nn.Conv2d(chans[k], chans[k + 1], 3, 2, 1), nn.ReLU())
                                     for k in range(len(widths))])

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class MiDaSLite(nn.Module):
    def __init__(self, widths=(8, 16, 32), features=16):
        super().__init__()
        self.encoder = Encoder(widths)
        self.reassemble = nn.ModuleList([nn.Conv2d(w, features, 1) for w in widths])
        self.fusion = nn.ModuleList([FeatureFusionBlock(features) for _ in widths])
        self.head = nn.Sequential(nn.Conv2d(features, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1), nn.ReLU())

    def decode(self, feats):
        feats = [proj(f) for proj, f in zip(self.reassemble, feats)]
        x = self.fusion[-1](feats[-1])
        for k in range(len(feats) - 2, -1, -1):
            x = self.fusion[k](x, feats[k])
        return self.head(x).squeeze(1)


def extract_features(model, images, freeze_encoder):
    feats = model.module.encoder(images)
    if freeze_encoder:
        for f in feats:
            f.requires_grad = False
    return feats


def scale_shift_invariant_loss(pred, target):
    p = pred.flatten(1)
    t = target.flatten(1)
    a = torch.stack([p, torch.ones_like(p)], -1)
    sol = torch.linalg.lstsq(a, t.unsqueeze(-1)).solution
    aligned = (a @ sol).squeeze(-1)
    return (aligned - t).abs().mean()


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    for images, depth in loader:
        feats = extract_features(model, images, cfg["freeze_encoder"])
        pred = model.module.decode(feats)
        loss = scale_shift_invariant_loss(pred, depth)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    cfg = {"freeze_encoder": True, "lr": 1e-3, "epochs": 2}
    net = MiDaSLite()
    model = nn.DataParallel(net)
    params = [p for n, p in model.module.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.Adam(params, lr=cfg["lr"])
    images = torch.rand(12, 3, 32, 32)
    depth = images.mean(1) * 2 + 0.5
    loader = DataLoader(TensorDataset(images, depth), batch_size=4, shuffle=True)
    head0 = net.head[0].weight.detach().clone()
    for _ in range(cfg["epochs"]):
        train_one_epoch(model, loader, optimizer, cfg)
    return {"model": net}, {"decoder_changed": not torch.equal(head0, net.head[0].weight)}

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
