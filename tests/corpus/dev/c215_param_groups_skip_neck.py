import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()),
            nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU()),
            nn.Sequential(nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU()),
        ])

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class SiameseTracker(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        # fuse the last two stages before correlation
        self.down = nn.Conv2d(16 + 16, 16, kernel_size=1)
        self.cls_head = nn.Conv2d(16, 2, kernel_size=3, padding=1)
        self.reg_head = nn.Conv2d(16, 4, kernel_size=3, padding=1)

    def embed(self, img):
        _, f2, f3 = self.backbone(img)
        f3 = F.interpolate(f3, size=f2.shape[-2:], mode="nearest")
        return self.down(torch.cat([f2, f3], dim=1))

    def forward(self, template, search):
        z, x = self.embed(template), self.embed(search)
        kernel = z.mean(dim=(2, 3), keepdim=True)
        fused = x * kernel
        return self.cls_head(fused), self.reg_head(fused)


def build_optimizer(model, base_lr=0.01, backbone_lr_mult=0.1):
    trainable_params = [
        {"params": [p for p in model.backbone.parameters() if p.requires_grad], "lr": base_lr * backbone_lr_mult},
        {"params": model.cls_head.parameters(), "lr": base_lr},
        {"params": model.reg_head.parameters(), "lr": base_lr},
    ]
    return torch.optim.SGD(trainable_params, momentum=0.9, weight_decay=1e-4)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for template, search, cls_t, reg_t in loader:
            cls_out, reg_out = model(template, search)
            loss = F.cross_entropy(cls_out, cls_t) + F.smooth_l1_loss(reg_out, reg_t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    n = 16
    data = TensorDataset(torch.randn(n, 3, 16, 16), torch.randn(n, 3, 16, 16),
                         torch.randint(0, 2, (n, 8, 8)), torch.randn(n, 4, 8, 8))
    loader = DataLoader(data, batch_size=8, shuffle=True)
    model = SiameseTracker()
    optimizer = build_optimizer(model)
    down0, cls0 = model.down.weight.detach().clone(), model.cls_head.weight.detach().clone()
    train(model, loader, optimizer)
    facts = {"down_changed": not torch.equal(down0, model.down.weight.detach()),
             "cls_head_changed": not torch.equal(cls0, model.cls_head.weight.detach())}
    return {"model": model}, facts

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
