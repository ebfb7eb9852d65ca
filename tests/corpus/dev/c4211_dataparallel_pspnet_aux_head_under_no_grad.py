import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class DilatedBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, 2)
        self.layer3 = conv_bn(8, 16)
        self.layer4 = conv_bn(16, 24)

    def forward(self, x):
        c3 = self.layer3(self.stem(x))
        return c3, self.layer4(c3)


class PyramidPooling(nn.Module):
    def __init__(self, cin, bins=(1, 2, 4)):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(cin, cin // 4, 1)) for b in bins])

    def forward(self, x):
        h, w = x.shape[-2:]
        pooled = [F.interpolate(s(x), (h, w), mode="bilinear", align_corners=False) for s in self.stages]
        return torch.cat([x] + pooled, 1)


class PSPNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = DilatedBackbone()
        self.ppm = PyramidPooling(24)
        self.head = nn.Sequential(conv_bn(24 + 3 * 6, 16), nn.Conv2d(16, num_classes, 1))
        self.aux_head = nn.Sequential(conv_bn(16, 8), nn.Conv2d(8, num_classes, 1))

    @torch.no_grad()
    def auxiliary_logits(self, c3, size):
        return F.interpolate(self.aux_head(c3), size, mode="bilinear", align_corners=False)

    def forward(self, x):
        c3, c4 = self.backbone(x)
        out = F.interpolate(self.head(self.ppm(c4)), x.shape[-2:], mode="bilinear", align_corners=False)
        if self.training:
            return out, self.auxiliary_logits(c3, x.shape[-2:])
        return out


def build_optimizer(model, cfg):
    net = model.module
    backbone = list(net.backbone.parameters())
    heads = list(net.ppm.parameters()) + list(net.head.parameters()) + list(net.aux_head.parameters())
    return torch.optim.SGD([{"params": backbone, "lr": cfg["lr"]},
                            {"params": heads, "lr": cfg["lr"] * cfg["head_lr_mult"]}],
                           momentum=0.9, weight_decay=1e-4)


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    for img, mask in loader:
        out, aux = model(img)
        loss = F.cross_entropy(out, mask, ignore_index=255) + cfg["aux_weight"] * F.cross_entropy(aux, mask, ignore_index=255)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def segmentation_loader(n=8, size=16, classes=3):
    g = torch.Generator().manual_seed(0)
    img = torch.randn(n, 3, size, size, generator=g)
    mask = (img[:, 0] > 0).long() + (img[:, 1] > 0.5).long()
    return DataLoader(TensorDataset(img, mask.clamp(max=classes - 1)), batch_size=4)


def main():
    torch.manual_seed(0)
    cfg = {"lr": 0.01, "head_lr_mult": 10.0, "aux_weight": 0.4, "epochs": 2}
    model = nn.DataParallel(PSPNet(num_classes=3))
    optimizer = build_optimizer(model, cfg)
    aux0 = model.module.aux_head[1].weight.detach().clone()
    head0 = model.module.head[1].weight.detach().clone()
    loader = segmentation_loader()
    for _ in range(cfg["epochs"]):
        train_one_epoch(model, loader, optimizer, cfg)
    return {"model": model}, {
        "aux_head_changed": not torch.equal(aux0, model.module.aux_head[1].weight),
        "main_head_changed": not torch.equal(head0, model.module.head[1].weight),
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
