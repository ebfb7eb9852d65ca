import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.layer2(self.layer1(x))


class FewShotSegmenter(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.backbone = Backbone()
        self.prior_fusion = nn.Sequential(nn.Conv2d(9, 8, 1), nn.ReLU())
        self.refine = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.cls_head = nn.Conv2d(8, n_classes, 1)

    def forward(self, query, prior):
        feats = self.backbone(query)
        h = self.prior_fusion(torch.cat([feats, prior], dim=1))
        return self.cls_head(h + self.refine(h))


def freeze_backbone(model):
    for param in model.backbone.parameters():
        param.requires_grad = False
    model.backbone.eval()


def build_optimizer(model, base_lr=0.02):
    groups = [
        {"params": model.prior_fusion.parameters()},
        {"params": model.refine.parameters()},
        {"params": model.cls_head.parameters(), "lr": base_lr * 10},
    ]
    return torch.optim.SGD(groups, lr=base_lr, momentum=0.9, weight_decay=1e-4)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(131)
    images = torch.rand(16, 3, 8, 8, generator=g)
    masks = (images[:, 0] > 0.5).long()
    priors = (images[:, :1] + 0.2 * torch.rand(16, 1, 8, 8, generator=g)).clamp(0, 1)
    loader = DataLoader(TensorDataset(images, priors, masks), batch_size=8, shuffle=True, generator=g)
    model = FewShotSegmenter()
    freeze_backbone(model)
    optimizer = build_optimizer(model)
    compiled = torch.compile(model, backend="eager")
    head0 = model.cls_head.weight.detach().clone()
    bb0 = model.backbone.layer1[0].weight.detach().clone()
    for images, priors, masks in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(compiled(images, priors), masks)
        loss.backward()
        optimizer.step()
    return {"model": model}, {"head_changed": not torch.equal(head0, model.cls_head.weight),
                              "backbone_changed": not torch.equal(bb0, model.backbone.layer1[0].weight),
                              "param_groups": len(optimizer.param_groups)}

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
