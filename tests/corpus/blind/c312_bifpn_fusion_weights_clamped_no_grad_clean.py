import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class FastFusion(nn.Module):
    """EfficientDet 'fast normalized fusion' of two same-shaped feature maps."""

    def __init__(self, ch, eps=1e-4):
        super().__init__()
        self.fuse_w = nn.Parameter(torch.ones(2))
        self.eps = eps
        self.conv = conv_bn_relu(ch, ch)

    def forward(self, a, b):
        w = F.relu(self.fuse_w)
        w = w / (w.sum() + self.eps)
        return self.conv(w[0] * a + w[1] * b)


class TinyBiFPNNet(nn.Module):
    def __init__(self, ch=8, n_classes=3):
        super().__init__()
        self.stem = conv_bn_relu(3, ch)
        self.down = conv_bn_relu(ch, ch, stride=2)
        self.td = FastFusion(ch)
        self.bu = FastFusion(ch)
        self.head = nn.Linear(ch, n_classes)

    def forward(self, x):
        p3 = self.stem(x)
        p4 = self.down(p3)
        p3_td = self.td(p3, F.interpolate(p4, scale_factor=2.0, mode="nearest"))
        p4_out = self.bu(p4, F.max_pool2d(p3_td, 2))
        return self.head(p4_out.mean(dim=(2, 3)))


@torch.no_grad()
def project_fusion_weights(model):
    for m in model.modules():
        if isinstance(m, FastFusion):
            m.fuse_w.clamp_(min=0.0)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, 16, 16, generator=g)
    y = torch.randint(0, 3, (32,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)
    net = TinyBiFPNNet()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fuse_before = net.td.fuse_w.detach().clone()
    for epoch in range(2):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            project_fusion_weights(net)
    facts = {"fusion_weights_changed": not torch.equal(fuse_before, net.td.fuse_w.detach()),
             "fusion_weights_nonnegative": bool((net.td.fuse_w >= 0).all())}
    return {"model": net}, facts

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
