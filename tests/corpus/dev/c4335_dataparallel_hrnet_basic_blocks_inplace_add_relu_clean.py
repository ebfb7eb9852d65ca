import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BasicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += residual
        return self.relu(out)


class FuseLayer(nn.Module):
    """HRNet exchange unit: each branch receives the resampled sum of the others."""

    def __init__(self, c_hi, c_lo):
        super().__init__()
        self.lo_to_hi = nn.Sequential(nn.Conv2d(c_lo, c_hi, 1, bias=False), nn.BatchNorm2d(c_hi))
        self.hi_to_lo = nn.Sequential(nn.Conv2d(c_hi, c_lo, 3, 2, 1, bias=False), nn.BatchNorm2d(c_lo))

    def forward(self, hi, lo):
        y_hi = hi + F.interpolate(self.lo_to_hi(lo), size=hi.shape[-2:], mode="nearest")
        y_lo = self.hi_to_lo(hi)
        y_lo += lo
        return F.relu(y_hi, inplace=True), F.relu(y_lo, inplace=True)


class HRNetW8(nn.Module):
    def __init__(self, n_joints, c_hi=8, c_lo=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c_hi, 3, 2, 1, bias=False), nn.BatchNorm2d(c_hi), nn.ReLU(inplace=True))
        self.transition = nn.Sequential(nn.Conv2d(c_hi, c_lo, 3, 2, 1, bias=False), nn.BatchNorm2d(c_lo), nn.ReLU(inplace=True))
        self.branch_hi = nn.Sequential(BasicBlock(c_hi), BasicBlock(c_hi))
        self.branch_lo = nn.Sequential(BasicBlock(c_lo), BasicBlock(c_lo))
        self.fuse = FuseLayer(c_hi, c_lo)
        self.lo_to_out = nn.Conv2d(c_lo, c_hi, 1)
        self.final_layer = nn.Conv2d(c_hi, n_joints, 1)

    def forward(self, x):
        x = self.stem(x)
        hi, lo = self.branch_hi(x), self.branch_lo(self.transition(x))
        hi, lo = self.fuse(hi, lo)
        out = hi + F.interpolate(self.lo_to_out(lo), size=hi.shape[-2:], mode="bilinear", align_corners=False)
        return self.final_layer(out)


def joints_mse(pred, target, weight):
    return ((pred - target) ** 2 * weight[:, :, None, None]).mean()


@torch.no_grad()
def pck(pred, target, thr=2.0):
    b, j, h, w = pred.shape
    pred = pred.clone()
    pred.clamp_(min=0)
    pi, ti = pred.flatten(2).argmax(-1), target.flatten(2).argmax(-1)
    d = torch.stack([(pi % w - ti % w).float(), (pi // w - ti // w).float()], -1).norm(dim=-1)
    return (d < thr).float().mean().item()


def train_one_epoch(model, loader, optimizer):
    model.train()
    scores = []
    for images, targets, weight in loader:
        pred = model(images)
        loss = joints_mse(pred, targets, weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scores.append(pck(pred, targets))
    return sum(scores) / len(scores)


def main():
    torch.manual_seed(0)
    n_joints = 4
    net = HRNetW8(n_joints)
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(16, 3, 32, 32, generator=g)
    cx, cy = torch.randint(0, 16, (2, 16, n_joints), generator=g).float()
    ys, xs = torch.arange(16.0).view(1, 1, 16, 1), torch.arange(16.0).view(1, 1, 1, 16)
    targets = torch.exp(-((xs - cx[..., None, None]) ** 2 + (ys - cy[..., None, None]) ** 2) / 4.5)
    weight = torch.ones(16, n_joints)
    loader = DataLoader(TensorDataset(images, targets, weight), batch_size=8, shuffle=True)
    stem0 = model.module.stem[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer)
    return {"model": net}, {"stem_changed": not torch.equal(stem0, model.module.stem[0].weight)}

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
