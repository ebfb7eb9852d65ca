import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class AlexBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([conv_bn(3, 8, 3, 2), conv_bn(8, 16), conv_bn(16, 16), conv_bn(16, 16)])

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


class RPNHead(nn.Module):
    def __init__(self, c=16, anchors=3):
        super().__init__()
        self.cls_z, self.cls_x = nn.Conv2d(c, c, 3), nn.Conv2d(c, c, 3)
        self.loc_z, self.loc_x = nn.Conv2d(c, c, 3), nn.Conv2d(c, c, 3)
        self.cls_out = nn.Conv2d(c, 2 * anchors, 1)
        self.loc_out = nn.Conv2d(c, 4 * anchors, 1)

    @staticmethod
    def xcorr_depthwise(x, kernel):
        b, c = kernel.shape[:2]
        out = F.conv2d(x.reshape(1, b * c, *x.shape[2:]), kernel.reshape(b * c, 1, *kernel.shape[2:]), groups=b * c)
        return out.reshape(b, c, *out.shape[2:])

    def forward(self, z, x):
        cls = self.cls_out(self.xcorr_depthwise(self.cls_x(x), self.cls_z(z)))
        loc = self.loc_out(self.xcorr_depthwise(self.loc_x(x), self.loc_z(z)))
        return cls, loc


class SiamRPN(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = AlexBackbone()
        self.rpn_head = RPNHead()

    def forward(self, template, search):
        return self.rpn_head(self.backbone(template), self.backbone(search))


def freeze_stages(backbone, n_frozen):
    """Keep the first pretrained stages fixed, as in the SiamRPN training recipe."""
    for stage in backbone.stages[:n_frozen]:
        stage.requires_grad = False
        for m in stage.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def tracking_loss(cls, loc, cls_t, loc_t):
    b, _, h, w = cls.shape
    cls = cls.view(b, 2, -1, h, w)
    return F.cross_entropy(cls, cls_t) + F.smooth_l1_loss(loc, loc_t)


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    freeze_stages(model.module.backbone, cfg["frozen_stages"])
    for z, x, cls_t, loc_t in loader:
        cls, loc = model(z, x)
        loss = tracking_loss(cls, loc, cls_t, loc_t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def pair_loader(n=16):
    g = torch.Generator().manual_seed(0)
    z, x = torch.randn(n, 3, 16, 16, generator=g), torch.randn(n, 3, 32, 32, generator=g)
    cls_t = torch.randint(0, 2, (n, 3, 9, 9), generator=g)
    return DataLoader(TensorDataset(z, x, cls_t, torch.randn(n, 12, 9, 9, generator=g)), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"frozen_stages": 2, "lr": 1e-2}
    model = nn.DataParallel(SiamRPN())
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=cfg["lr"], momentum=0.9)
    stem0 = model.module.backbone.stages[0][0].weight.detach().clone()
    head0 = model.module.rpn_head.cls_out.weight.detach().clone()
    train_one_epoch(model, pair_loader(), optimizer, cfg)
    return {"model": model.module}, {
        "frozen_stage_changed": not torch.equal(stem0, model.module.backbone.stages[0][0].weight),
        "rpn_head_changed": not torch.equal(head0, model.module.rpn_head.cls_out.weight),
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
