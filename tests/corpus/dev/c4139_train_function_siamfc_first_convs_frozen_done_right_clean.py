import torch
import torch.nn as nn
import torch.nn.functional as F


class SiamFCBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.featureExtract = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3),
        )

    def forward(self, x):
        return self.featureExtract(x)


class SiamFC(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = SiamFCBackbone()
        self.adjust = nn.Conv2d(1, 1, 1)

    def forward(self, z, x):
        fz, fx = self.backbone(z), self.backbone(x)
        b = fz.size(0)
        score = F.conv2d(fx.reshape(1, -1, *fx.shape[2:]), fz, groups=b)
        return self.adjust(score.reshape(b, 1, *score.shape[2:]))


def freeze_former_convs(model, n_convs=3):
    """Fix the first pretrained conv blocks: no gradients, and BatchNorm statistics kept as loaded."""
    frozen = 0
    for m in model.backbone.featureExtract:
        if frozen >= n_convs:
            break
        for p in m.parameters():
            p.requires_grad = False
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            frozen += 1


def logistic_loss(score, label):
    return F.binary_cross_entropy_with_logits(score, label)


def train_one_epoch(model, pairs, optimizer, cfg):
    model.train()
    freeze_former_convs(model, cfg["frozen_convs"])
    for z, x, label in pairs:
        loss = logistic_loss(model(z, x), label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def make_pairs(n_batches=4, b=4):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n_batches):
        z, x = torch.randn(b, 3, 23, 23, generator=g), torch.randn(b, 3, 39, 39, generator=g)
        label = (torch.rand(b, 1, 9, 9, generator=g) > 0.7).float()
        out.append((z, x, label))
    return out


def main():
    torch.manual_seed(0)
    cfg = {"frozen_convs": 3, "lr": 1e-2}
    model = SiamFC()
    freeze_former_convs(model, cfg["frozen_convs"])
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=cfg["lr"], momentum=0.9)
    conv0 = model.backbone.featureExtract[0].weight.detach().clone()
    last0 = model.backbone.featureExtract[12].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, make_pairs(), optimizer, cfg)
    return {"model": model}, {
        "frozen_conv_unchanged": torch.equal(conv0, model.backbone.featureExtract[0].weight),
        "last_conv_changed": not torch.equal(last0, model.backbone.featureExtract[12].weight),
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
