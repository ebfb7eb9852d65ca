import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SegNetWithAux(nn.Module):
    """PSPNet-style: main decoder on the last stage, auxiliary FCN head on stage 3."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.stage1, self.stage2 = conv_bn(3, 8), conv_bn(8, 16, 2)
        self.stage3, self.stage4 = conv_bn(16, 16), conv_bn(16, 32)
        self.decode_head = nn.Conv2d(32, n_classes, 1)
        self.aux_head = nn.Sequential(conv_bn(16, 16), nn.Conv2d(16, n_classes, 1))

    def forward(self, x):
        size = x.shape[-2:]
        c3 = self.stage3(self.stage2(self.stage1(x)))
        out = F.interpolate(self.decode_head(self.stage4(c3)), size=size, mode="bilinear", align_corners=False)
        if self.training:
            aux = F.interpolate(self.aux_head(c3), size=size, mode="bilinear", align_corners=False)
            return out, aux
        return out


class SegLoss:
    def __init__(self, aux_weight=0.4, ignore_index=255):
        self.aux_weight = aux_weight
        self.ignore_index = ignore_index
        self.last = {}

    def __call__(self, outputs, target):
        out, aux = outputs
        loss_main = F.cross_entropy(out, target, ignore_index=self.ignore_index)
        loss_aux = F.cross_entropy(aux, target, ignore_index=self.ignore_index).item()
        self.last = {"main": loss_main.item(), "aux": loss_aux}
        return loss_main + self.aux_weight * loss_aux


def train(model, loader, optimizer, scheduler, criterion, epochs=2):
    model.train()
    for _ in range(epochs):
        for images, masks in loader:
            loss = criterion(model(images), masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    images, masks = torch.randn(16, 3, 16, 16), torch.randint(0, 3, (16, 16, 16))
    masks[:, :2] = 255
    loader = DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True)
    model = SegNetWithAux()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=8, power=0.9)
    train(model, loader, optimizer, scheduler, SegLoss())
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
