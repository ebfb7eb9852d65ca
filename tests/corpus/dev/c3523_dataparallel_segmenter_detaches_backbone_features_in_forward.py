import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBackbone(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.stages = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())

    def forward(self, x):
        return self.stages(x)


class SegmentationHead(nn.Module):
    def __init__(self, width=16, code_dim=8):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(width, width, 1), nn.ReLU(), nn.Conv2d(width, code_dim, 1))

    def forward(self, feats):
        return self.proj(feats)


class UnsupervisedSegmenter(nn.Module):
    def __init__(self, n_classes=4, code_dim=8):
        super().__init__()
        self.backbone = ConvBackbone()
        self.head = SegmentationHead(code_dim=code_dim)
        self.linear_probe = nn.Conv2d(code_dim, n_classes, 1)

    def forward(self, img):
        feats = self.backbone(img).detach()
        code = self.head(feats)
        probe_logits = self.linear_probe(code.detach())
        return feats, code, probe_logits


def correspondence_loss(feats, code, shift=0.1):
    f = F.normalize(feats.flatten(2), dim=1)
    c = F.normalize(code.flatten(2), dim=1)
    f_corr = torch.einsum("bcn,bcm->bnm", f, f)
    c_corr = torch.einsum("bcn,bcm->bnm", c, c)
    return -(c_corr.clamp(min=0) * (f_corr - f_corr.mean() - shift)).mean()


def build_optimizer(model, base_lr=1e-3):
    m = model.module
    return torch.optim.Adam([
        {"params": m.backbone.parameters(), "lr": base_lr * 0.1},
        {"params": m.head.parameters(), "lr": base_lr},
        {"params": m.linear_probe.parameters(), "lr": base_lr},
    ])


def train_epoch(model, loader, optimizer):
    model.train()
    for img, mask in loader:
        optimizer.zero_grad()
        feats, code, probe_logits = model(img)
        loss = correspondence_loss(feats, code) + F.cross_entropy(probe_logits, mask)
        loss.backward()
        optimizer.step()


def make_loader(n=16, bs=4):
    g = torch.Generator().manual_seed(11)
    img = torch.randn(n, 3, 8, 8, generator=g)
    mask = torch.randint(0, 4, (n, 8, 8), generator=g)
    return DataLoader(TensorDataset(img, mask), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(UnsupervisedSegmenter())
    optimizer = build_optimizer(model)
    bb0 = model.module.backbone.stages[0].weight.detach().clone()
    head0 = model.module.head.proj[0].weight.detach().clone()
    for _ in range(2):
        train_epoch(model, make_loader(), optimizer)
    m = model.module
    return {"backbone": m.backbone, "head": m.head, "probe": m.linear_probe}, {
        "backbone_changed": not torch.equal(bb0, m.backbone.stages[0].weight),
        "head_changed": not torch.equal(head0, m.head.proj[0].weight),
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
