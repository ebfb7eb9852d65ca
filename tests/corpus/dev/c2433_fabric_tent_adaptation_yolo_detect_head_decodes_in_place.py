import torch
import torch.nn as nn
from lightning.fabric import Fabric


class ConvBNAct(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Detect(nn.Module):
    """YOLO-style head: per anchor (x, y, w, h, obj, classes), decoded to image coordinates."""

    def __init__(self, ch, n_classes=3, anchors=((10, 13), (16, 30)), stride=4):
        super().__init__()
        self.no, self.na, self.stride = n_classes + 5, len(anchors), stride
        self.m = nn.Conv2d(ch, self.na * self.no, 1)
        self.register_buffer("anchor_grid", torch.tensor(anchors, dtype=torch.float32).view(1, -1, 1, 1, 2))

    def forward(self, x):
        bs, _, ny, nx = x.shape
        x = self.m(x).view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
        yv, xv = torch.meshgrid(torch.arange(ny), torch.arange(nx), indexing="ij")
        grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2).float()
        y = x.sigmoid()
        y[..., 0:2] = (y[..., 0:2] * 2.0 - 0.5 + grid) * self.stride
        y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * self.anchor_grid
        return y.view(bs, -1, self.no)


class TinyYOLO(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(ConvBNAct(3, 8, 2), ConvBNAct(8, 16, 2), ConvBNAct(16, 16))
        self.detect = Detect(16)

    def forward(self, x):
        return self.detect(self.backbone(x))


def configure_tent(model):
    """TENT: adapt only the BatchNorm affine parameters, normalize with test-batch statistics."""
    model.train()
    model.requires_grad_(False)
    params = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.requires_grad_(True)
            m.track_running_stats, m.running_mean, m.running_var = False, None, None
            params += [m.weight, m.bias]
    return params


def entropy_of_detections(pred):
    obj = pred[..., 4]
    cls = pred[..., 5:] / pred[..., 5:].sum(-1, keepdim=True)
    ent = -(cls * cls.clamp_min(1e-6).log()).sum(-1)
    return (obj * ent).sum() / obj.sum()


def adapt(fabric, model, optimizer, stream, steps_per_batch=1):
    for images in stream:
        for _ in range(steps_per_batch):
            loss = entropy_of_detections(model(images))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = TinyYOLO()
    params = configure_tent(model)
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    stream = [torch.rand(2, 3, 16, 16) for _ in range(3)]
    adapt(fabric, model, optimizer, stream)
    return {"model": model}

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
